import { DpnError } from "@dpn/protocol";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { base64ToBytes, bytesToBase64 } from "./encoding.ts";
import {
  checkPublicIdentity,
  type Identity,
  type PublicIdentity,
  signHybrid,
  verifyEd25519,
  verifyMldsa44,
} from "./identity.ts";

/**
 * A signed message (docs/protocol.md §Messages). The payload travels as JSON text and is signed
 * as those exact bytes, so no canonical JSON is needed: the signed bytes are
 *
 *   "dpn/v1\n" kind "\n" from "\n" nonce "\n" issuedAtMs "\n" expiresAtMs "\n" payload
 *
 * Both an Ed25519 and an ML-DSA-44 signature cover them. The nonce, issue time and expiry let
 * the receiver reject replays (replayGuard.ts).
 */
export interface Envelope {
  readonly v: 1;
  readonly kind: string;
  readonly from: string;
  /** 16 random bytes, hex. */
  readonly nonce: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** The message body as JSON text. */
  readonly payload: string;
  /** base64 */
  readonly sigEd25519: string;
  /** base64 */
  readonly sigMldsa44: string;
}

/** How long a message may live: long enough for a slow network, short enough to bound replays. */
export const MAX_ENVELOPE_TTL_MS = 5 * 60_000;
/** Clock difference tolerated between sender and receiver. */
export const MAX_CLOCK_SKEW_MS = 30_000;
/** Bounds memory per message; artifacts travel separately, by content hash. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export type SignaturePolicy = "hybrid" | "pq-only";

export const ENVELOPE_MALFORMED = "ENVELOPE_MALFORMED";
export const ENVELOPE_BAD_SIGNATURE = "ENVELOPE_BAD_SIGNATURE";
export const ENVELOPE_EXPIRED = "ENVELOPE_EXPIRED";
export const ENVELOPE_NOT_YET_VALID = "ENVELOPE_NOT_YET_VALID";

function signingBytes(e: Omit<Envelope, "sigEd25519" | "sigMldsa44" | "v">): Uint8Array {
  return utf8ToBytes(
    `dpn/v1\n${e.kind}\n${e.from}\n${e.nonce}\n${e.issuedAtMs}\n${e.expiresAtMs}\n${e.payload}`,
  );
}

export interface SealOptions {
  readonly nowMs: number;
  readonly ttlMs?: number;
}

/** Signs `body` as a message of `kind` from `identity`. */
export function seal(
  identity: Identity,
  kind: string,
  body: unknown,
  options: SealOptions,
): Envelope {
  const ttlMs = Math.min(options.ttlMs ?? 60_000, MAX_ENVELOPE_TTL_MS);
  const unsigned = {
    kind,
    from: identity.id,
    nonce: bytesToHex(randomBytes(16)),
    issuedAtMs: options.nowMs,
    expiresAtMs: options.nowMs + ttlMs,
    payload: JSON.stringify(body),
  };
  const signature = signHybrid(identity, signingBytes(unsigned));
  return {
    v: 1,
    ...unsigned,
    sigEd25519: bytesToBase64(signature.ed25519),
    sigMldsa44: bytesToBase64(signature.mldsa44),
  };
}

export interface OpenOptions {
  readonly nowMs: number;
  readonly policy?: SignaturePolicy;
  /** Messages issued before this instant are refused (the receiver's start time; see replayGuard). */
  readonly notBeforeMs?: number;
}

function malformed(what: string): never {
  throw new DpnError(ENVELOPE_MALFORMED, `The message is malformed: ${what}.`, {
    hint: "Build messages with the DPN SDK (seal), which produces well-formed envelopes.",
  });
}

/** Validates the envelope's shape without checking signatures. */
export function parseEnvelope(value: unknown): Envelope {
  if (typeof value !== "object" || value === null) malformed("not an object");
  const e = value as Record<string, unknown>;
  if (e.v !== 1) malformed("unsupported version (v must be 1)");
  for (const field of ["kind", "from", "nonce", "payload", "sigEd25519", "sigMldsa44"] as const) {
    if (typeof e[field] !== "string") malformed(`${field} must be a string`);
  }
  for (const field of ["issuedAtMs", "expiresAtMs"] as const) {
    if (!Number.isSafeInteger(e[field])) malformed(`${field} must be an integer`);
  }
  if (!/^[0-9a-f]{32}$/.test(e.nonce as string)) malformed("nonce must be 32 hex digits");
  if ((e.kind as string).length > 64 || !/^[a-z][a-z0-9.-]*$/.test(e.kind as string))
    malformed("bad kind");
  if ((e.payload as string).length > MAX_PAYLOAD_BYTES) {
    throw new DpnError("ENVELOPE_TOO_LARGE", `The payload exceeds ${MAX_PAYLOAD_BYTES} bytes.`, {
      hint: "Send large data as an artifact by content hash.",
    });
  }
  return value as Envelope;
}

/**
 * Verifies an envelope's time window and signatures against the sender's public identity and
 * returns the parsed payload. Replays are checked separately (ReplayGuard), after this succeeds.
 */
export function open(envelope: Envelope, sender: PublicIdentity, options: OpenOptions): unknown {
  const { nowMs } = options;
  if (envelope.from !== sender.id) {
    throw new DpnError(ENVELOPE_BAD_SIGNATURE, "The message is not from the identity it names.", {
      hint: "Sign with the key of the identity in `from`.",
    });
  }
  checkPublicIdentity(sender);
  if (
    envelope.expiresAtMs - envelope.issuedAtMs > MAX_ENVELOPE_TTL_MS ||
    envelope.expiresAtMs < envelope.issuedAtMs
  ) {
    malformed(`lifetime must be between 0 and ${MAX_ENVELOPE_TTL_MS} ms`);
  }
  if (envelope.expiresAtMs < nowMs - MAX_CLOCK_SKEW_MS) {
    throw new DpnError(ENVELOPE_EXPIRED, "The message has expired.", {
      hint: "Send a fresh message; check that the sender's clock is correct.",
      details: { expiresAtMs: envelope.expiresAtMs, nowMs },
    });
  }
  const notBefore =
    Math.max(nowMs - MAX_ENVELOPE_TTL_MS, options.notBeforeMs ?? 0) - MAX_CLOCK_SKEW_MS;
  if (envelope.issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS || envelope.issuedAtMs < notBefore) {
    throw new DpnError(
      ENVELOPE_NOT_YET_VALID,
      "The message's issue time is outside the accepted window.",
      {
        hint: "Send a fresh message; check that the sender's clock is correct.",
        details: { issuedAtMs: envelope.issuedAtMs, nowMs },
      },
    );
  }
  const signatures = envelopeSignatures(envelope, sender, options.policy);
  const pqValid = signatures.mldsa44;
  const edValid = options.policy === "pq-only" || signatures.ed25519;
  if (!pqValid || !edValid) {
    throw new DpnError(ENVELOPE_BAD_SIGNATURE, "The message's signature does not verify.", {
      hint: "Sign the exact payload bytes with both keys of the sending identity.",
      details: { ed25519: edValid, mldsa44: pqValid },
    });
  }
  try {
    return JSON.parse(envelope.payload);
  } catch {
    return malformed("payload is not JSON");
  }
}

/**
 * Whether each of the envelope's signatures verifies under the sender's keys, over its signed
 * bytes only: no time window, so an audit can check a message long expired (the assignment
 * seed's submission). Ed25519 is not checked (false) under the pq-only policy.
 */
export function envelopeSignatures(
  envelope: Envelope,
  sender: PublicIdentity,
  policy: SignaturePolicy = "hybrid",
): { readonly ed25519: boolean; readonly mldsa44: boolean } {
  const bytes = signingBytes(envelope);
  // A signature that is not canonical base64 is simply one that does not verify.
  const mldsa44 = base64ToBytes(envelope.sigMldsa44);
  const ed = policy === "pq-only" ? undefined : base64ToBytes(envelope.sigEd25519);
  return {
    mldsa44: mldsa44 !== undefined && verifyMldsa44(sender.mldsa44PublicKey, bytes, mldsa44),
    ed25519: ed !== undefined && verifyEd25519(sender.ed25519PublicKey, bytes, ed),
  };
}

/**
 * SHA-256 of the bytes an envelope's signatures cover, 64 hex digits: what the requester signed,
 * named by one hash (the assignment seed's submission digest, docs/protocol.md §Assignment seed).
 */
export function envelopeDigest(envelope: Envelope): string {
  return bytesToHex(sha256(signingBytes(envelope)));
}
