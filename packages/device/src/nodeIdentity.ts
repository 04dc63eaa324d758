import { DpnError } from "@dpn/protocol";
import { checkPublicIdentity, type PublicIdentity } from "@dpn/wire";
import { nodeEndpoint } from "./endpoints.ts";
import {
  DEVICE_NODE_ID_MISMATCH,
  DEVICE_NODE_IDENTITY_INVALID,
  DEVICE_NODE_UNREACHABLE,
} from "./errors.ts";

/** The identity document is three short fields; anything bigger is not one. */
const MAX_IDENTITY_RESPONSE_BYTES = 16 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

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
  if (typeof ed25519PublicKey !== "string" || !BASE64.test(ed25519PublicKey)) {
    throw invalid("ed25519PublicKey is not base64");
  }
  if (typeof mldsa44PublicKey !== "string" || !BASE64.test(mldsa44PublicKey)) {
    throw invalid("mldsa44PublicKey is not base64");
  }
  const identity: PublicIdentity = {
    id,
    ed25519PublicKey: new Uint8Array(Buffer.from(ed25519PublicKey, "base64")),
    mldsa44PublicKey: new Uint8Array(Buffer.from(mldsa44PublicKey, "base64")),
  };
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
 * Fetches the node's public identity from `GET {nodeUrl}/v1/node` and checks it against the
 * pinned id, if any (option `nodeId`, or the id first seen in this agent's lifetime).
 */
export async function fetchNodeIdentity(
  nodeUrl: string,
  pinnedId: string | undefined,
  signal?: AbortSignal,
): Promise<PublicIdentity> {
  const url = nodeEndpoint(nodeUrl, "v1/node");
  let text: string;
  try {
    const response = await fetch(url, signal === undefined ? {} : { signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    text = await response.text();
  } catch (error) {
    throw new DpnError(DEVICE_NODE_UNREACHABLE, `Cannot reach the bank node at ${url.href}.`, {
      hint: "Check that the node runs and nodeUrl is right; the agent keeps retrying.",
      cause: error,
    });
  }
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
      `The node at ${url.host} is ${identity.id}, not the expected ${pinnedId}.`,
      {
        hint: "Another node answers at this address (or the node's keys changed); pass the right nodeId or restart the agent to trust the new node.",
      },
    );
  }
  return identity;
}
