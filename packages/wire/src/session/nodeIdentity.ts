import { DpnError } from "@dpn/protocol";
import { base64ToBytes } from "../encoding.ts";
import { checkPublicIdentity, type PublicIdentity } from "../identity.ts";
import {
  DEVICE_NODE_ID_MISMATCH,
  DEVICE_NODE_IDENTITY_INVALID,
  DEVICE_NODE_UNREACHABLE,
} from "./errors.ts";

/** The identity document is three short fields; anything bigger is not one. */
export const MAX_IDENTITY_RESPONSE_BYTES = 16 * 1024;

function invalid(what: string): DpnError {
  return new DpnError(DEVICE_NODE_IDENTITY_INVALID, `The node's identity is invalid: ${what}.`, {
    hint: "Check nodeUrl: it must be a DPN bank node.",
  });
}

/**
 * Parses `{ id, ed25519PublicKey, mldsa44PublicKey }` (keys base64) and checks that the id
 * commits to the keys, so a node cannot claim another node's id with its own keys.
 */
export function parseNodeIdentity(value: unknown): PublicIdentity {
  if (typeof value !== "object" || value === null) throw invalid("not a JSON object");
  const { id, ed25519PublicKey, mldsa44PublicKey } = value as Record<string, unknown>;
  if (typeof id !== "string") throw invalid("id is not a string");
  const ed = typeof ed25519PublicKey === "string" ? base64ToBytes(ed25519PublicKey) : undefined;
  if (ed === undefined) throw invalid("ed25519PublicKey is not base64");
  const pq = typeof mldsa44PublicKey === "string" ? base64ToBytes(mldsa44PublicKey) : undefined;
  if (pq === undefined) throw invalid("mldsa44PublicKey is not base64");
  const identity: PublicIdentity = { id, ed25519PublicKey: ed, mldsa44PublicKey: pq };
  try {
    checkPublicIdentity(identity);
  } catch (error) {
    throw new DpnError(DEVICE_NODE_IDENTITY_INVALID, "The node's keys do not match its id.", {
      hint: "The node is misconfigured or is not who it claims to be; do not connect to it.",
      cause: error,
      details: { id },
    });
  }
  return identity;
}

/**
 * Reads the answer of `GET {nodeUrl}/v1/node` and checks it against the pinned id, if any
 * (option `nodeId`, or the id first seen in this session's lifetime: trust on first use).
 */
export function readNodeIdentity(
  text: string,
  pinnedId: string | undefined,
  host: string,
): PublicIdentity {
  if (text.length > MAX_IDENTITY_RESPONSE_BYTES) throw invalid("response too large");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid("not JSON");
  }
  const identity = parseNodeIdentity(json);
  if (pinnedId !== undefined && identity.id !== pinnedId) {
    throw new DpnError(
      DEVICE_NODE_ID_MISMATCH,
      `The node at ${host} is ${identity.id}, not the expected ${pinnedId}.`,
      {
        hint: "Another node answers at this address (or the node's keys changed); pass the right nodeId or restart the agent to trust the new node.",
      },
    );
  }
  return identity;
}

/** The error of a failed `GET /v1/node` (network, HTTP status), as the session reports it. */
export function nodeUnreachable(url: string, cause: unknown): DpnError {
  return new DpnError(DEVICE_NODE_UNREACHABLE, `Cannot reach the bank node at ${url}.`, {
    hint: "Check that the node runs and nodeUrl is right; the agent keeps retrying.",
    cause,
  });
}
