import { DpnError } from "@dpn/protocol";
import {
  DEVICE_MESSAGES,
  type Identity,
  MAX_PAYLOAD_BYTES,
  NODE_MESSAGES,
  open,
  type PublicIdentity,
  parseEnvelope,
  parseMessage,
  type ReplayGuard,
  seal,
} from "@dpn/wire";
import { DEVICE_FRAME_INVALID, DEVICE_MESSAGE_TOO_LARGE } from "./errors.ts";

/** The parsed body type of a zod schema, without importing zod here. */
type Parsed<S> = S extends { parse(value: unknown): infer T } ? T : never;

export type NodeKind = keyof typeof NODE_MESSAGES;
export type DeviceKind = keyof typeof DEVICE_MESSAGES;

/** A verified message from the node: kind and body, validated against NODE_MESSAGES. */
export type NodeMessage = {
  [K in NodeKind]: { readonly kind: K; readonly body: Parsed<(typeof NODE_MESSAGES)[K]> };
}[NodeKind];

export type DeviceBody<K extends DeviceKind> = Parsed<(typeof DEVICE_MESSAGES)[K]>;

function isNodeKind(kind: string): kind is NodeKind {
  return Object.hasOwn(NODE_MESSAGES, kind);
}

/**
 * Opens one WebSocket frame from the node: JSON → envelope shape → known node kind → time
 * window and both signatures against the node's pinned identity → not a replay → body schema.
 * Throws a DpnError naming the first check that failed; the agent logs it and drops the frame.
 */
export function readNodeFrame(
  text: string,
  node: PublicIdentity,
  replayGuard: ReplayGuard,
  options: { readonly nowMs: number; readonly notBeforeMs: number },
): NodeMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DpnError(DEVICE_FRAME_INVALID, "A frame from the node is not JSON.", {
      hint: "Every frame on the device channel is one signed envelope as JSON text.",
    });
  }
  const envelope = parseEnvelope(json);
  const { kind } = envelope;
  if (!isNodeKind(kind)) {
    throw new DpnError(DEVICE_FRAME_INVALID, `Unknown node message kind "${kind}".`, {
      hint: "The node speaks a newer protocol than this agent; upgrade the agent.",
      details: { kind },
    });
  }
  const body = open(envelope, node, options);
  replayGuard.check(envelope.from, envelope.nonce, envelope.expiresAtMs, options.nowMs);
  // The cast pairs each kind with its own schema's type, which TypeScript cannot follow
  // through the indexed access; parseMessage has validated the body against that schema.
  return { kind, body: parseMessage<unknown>(NODE_MESSAGES[kind], body, kind) } as NodeMessage;
}

/**
 * Throws DEVICE_MESSAGE_TOO_LARGE when `body` exceeds the envelope payload limit, which the node
 * enforces (parseEnvelope) and its WebSocket bounds. The protocol cannot split one task's
 * results over several frames, so a task whose outputs do not fit cannot be delivered.
 */
export function checkPayloadSize(kind: DeviceKind, body: unknown): void {
  const length = JSON.stringify(body).length;
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
 * Signs a device message. The body is validated first: the agent must never send what the node
 * would reject, so a failure here is a bug in the agent (an assertion, not an operating error).
 */
export function sealDeviceMessage<K extends DeviceKind>(
  identity: Identity,
  kind: K,
  body: DeviceBody<K>,
  nowMs: number,
): string {
  const checked = parseMessage<unknown>(DEVICE_MESSAGES[kind], body, kind);
  checkPayloadSize(kind, checked);
  return JSON.stringify(seal(identity, kind, checked, { nowMs }));
}
