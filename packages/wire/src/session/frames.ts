import { DpnError } from "@dpn/protocol";
import {
  DEVICE_MESSAGES,
  type DeviceMessageBody,
  type DeviceMessageKind,
  NODE_MESSAGES,
  type NodeMessageBody,
  type NodeMessageKind,
} from "../channel.ts";
import {
  type Envelope,
  MAX_PAYLOAD_BYTES,
  open,
  parseEnvelope,
  type SignaturePolicy,
  seal,
} from "../envelope.ts";
import type { Identity, PublicIdentity } from "../identity.ts";
import { parseMessage } from "../schemas.ts";
import { DEVICE_FRAME_INVALID, DEVICE_MESSAGE_TOO_LARGE } from "./errors.ts";
import { checkNotReplayed, type ReplayMemory, remember } from "./replayMemory.ts";

/**
 * Largest frame accepted from the node: an envelope's payload is at most 1 MiB of JSON text
 * (MAX_PAYLOAD_BYTES), which JSON-escaping inside the envelope can double, plus the signatures.
 */
export const MAX_NODE_FRAME_BYTES = 4 * 1024 * 1024;

/** A verified message from the node: kind and body, validated against NODE_MESSAGES. */
export type NodeMessage = {
  [K in NodeMessageKind]: { readonly kind: K; readonly body: NodeMessageBody<K> };
}[NodeMessageKind];

function isNodeKind(kind: string): kind is NodeMessageKind {
  return Object.hasOwn(NODE_MESSAGES, kind);
}

export interface OpenFrameOptions {
  readonly nowMs: number;
  /** Frames issued before this instant are refused (the session's start). */
  readonly notBeforeMs: number;
  readonly policy?: SignaturePolicy;
}

/**
 * Opens one WebSocket frame from the node: JSON → envelope shape → known node kind → time
 * window and both signatures against the node's pinned identity → not a replay → body schema
 * (a lease's items against its kind's item schema) → remembered. Throws a DpnError naming the
 * first check that failed; a frame that fails any check leaves `replay` as it was.
 */
export function openNodeFrame(
  text: string,
  node: PublicIdentity,
  replay: ReplayMemory,
  options: OpenFrameOptions,
): { readonly message: NodeMessage; readonly replay: ReplayMemory } {
  if (text.length > MAX_NODE_FRAME_BYTES) {
    throw new DpnError(DEVICE_FRAME_INVALID, "A frame from the node is too large.", {
      hint: "Every frame is one envelope of at most 1 MiB of payload.",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DpnError(DEVICE_FRAME_INVALID, "A frame from the node is not JSON.", {
      hint: "Every frame on the device channel is one signed envelope as JSON text.",
    });
  }
  const envelope: Envelope = parseEnvelope(json);
  const { kind } = envelope;
  if (!isNodeKind(kind)) {
    throw new DpnError(DEVICE_FRAME_INVALID, `Unknown node message kind "${kind}".`, {
      hint: "The node speaks a newer protocol than this agent; upgrade the agent.",
      details: { kind },
    });
  }
  const body = open(envelope, node, {
    nowMs: options.nowMs,
    notBeforeMs: options.notBeforeMs,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
  });
  checkNotReplayed(replay, envelope.nonce);
  // The cast pairs each kind with its own schema's type, which TypeScript cannot follow
  // through the indexed access; parseMessage has validated the body against that schema.
  const message = {
    kind,
    body: parseMessage<unknown>(NODE_MESSAGES[kind], body, kind),
  } as NodeMessage;
  return {
    message,
    replay: remember(replay, envelope.nonce, envelope.expiresAtMs, options.nowMs),
  };
}

/**
 * Throws DEVICE_MESSAGE_TOO_LARGE when `body` exceeds the envelope payload limit, which the node
 * enforces (parseEnvelope) and its WebSocket bounds. The protocol cannot split one task's
 * results over several frames, so a task whose outputs do not fit cannot be delivered.
 */
export function checkPayloadSize(kind: DeviceMessageKind, length: number): void {
  if (length > MAX_PAYLOAD_BYTES) {
    throw new DpnError(
      DEVICE_MESSAGE_TOO_LARGE,
      `A ${kind} message of ${length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit.`,
      {
        hint: "The node leased more items than one frame can answer (about 800 Groth16 proofs); it should split jobs into smaller tasks.",
      },
    );
  }
}

/**
 * Signs a device message as frame text. The body is validated first: a device must never send
 * what the node would reject, so a failure here is a bug in the device (an assertion, not an
 * operating error).
 */
export function sealDeviceFrame<K extends DeviceMessageKind>(
  identity: Identity,
  kind: K,
  body: DeviceMessageBody<K>,
  nowMs: number,
): string {
  const checked = parseMessage<unknown>(DEVICE_MESSAGES[kind], body, kind);
  const envelope = seal(identity, kind, checked, { nowMs });
  checkPayloadSize(kind, envelope.payload.length);
  return JSON.stringify(envelope);
}
