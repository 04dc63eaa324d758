import { DpnError } from "@dpn/protocol";
import {
  Base64,
  checkIssuedSince,
  type Envelope,
  identityId,
  open,
  type PublicIdentity,
  parseEnvelope,
  parseMessage,
  type ReplayGuard,
  type SignaturePolicy,
} from "@dpn/wire";
import { z } from "zod";
import type { KeyedBuckets } from "../tokenBucket.ts";

/**
 * Every request that changes state is a signed envelope plus the sender's public keys. The id
 * must be derived from the keys, so requests are self-certifying: no account registration step,
 * and nobody can act for an id without both of its private keys.
 */
export const SignedRequest = z.strictObject({
  envelope: z.unknown(),
  keys: z.strictObject({ ed25519PublicKey: Base64, mldsa44PublicKey: Base64 }),
});

export interface SignedContext {
  readonly nowMs: number;
  readonly startedAtMs: number;
  readonly policy: SignaturePolicy;
  readonly replay: ReplayGuard;
  /** Each signing account's request budget (ACCOUNT_REQUEST_BURST, ACCOUNT_REQUESTS_PER_SEC). */
  readonly accounts: KeyedBuckets;
}

/** A verified signed request: the sender, the validated body and the message as received. */
export interface VerifiedRequest<T> {
  readonly sender: string;
  readonly body: T;
  readonly envelope: Envelope;
  /** The sender's public keys, base64, as sent with the envelope. */
  readonly keys: { readonly ed25519PublicKey: string; readonly mldsa44PublicKey: string };
}

/**
 * Verifies a signed request of `kind` and returns the sender and the validated body, with the
 * envelope and keys for a caller that keeps the signed message (a job's submission does).
 */
export function readSigned<T>(
  raw: unknown,
  kind: string,
  schema: z.ZodType<T>,
  context: SignedContext,
): VerifiedRequest<T> {
  const verified = verifySigned(raw, kind, schema, context);
  const { envelope } = verified;
  context.replay.check(envelope.from, envelope.nonce, envelope.expiresAtMs, context.nowMs);
  return verified;
}

/**
 * Checks everything of a signed request but its nonce: the shape, the kind, that the id is the
 * keys', both signatures, the time window and the body's schema, and spends the account's request
 * budget (after the signatures, so nobody spends another's). A request that changes state
 * goes on to the replay guard (readSigned); a signed read does not (signedRead.ts).
 */
export function verifySigned<T>(
  raw: unknown,
  kind: string,
  schema: z.ZodType<T>,
  context: Omit<SignedContext, "replay">,
): VerifiedRequest<T> {
  const request = parseMessage(SignedRequest, raw, "signed request");
  const envelope = parseEnvelope(request.envelope);
  if (envelope.kind !== kind) {
    throw new DpnError(
      "MESSAGE_UNEXPECTED",
      `This endpoint takes ${kind} messages, not ${envelope.kind}.`,
      {
        hint: `Seal the body with kind "${kind}".`,
      },
    );
  }
  const identity: PublicIdentity = {
    id: envelope.from,
    ed25519PublicKey: new Uint8Array(Buffer.from(request.keys.ed25519PublicKey, "base64")),
    mldsa44PublicKey: new Uint8Array(Buffer.from(request.keys.mldsa44PublicKey, "base64")),
  };
  if (identityId(identity.ed25519PublicKey, identity.mldsa44PublicKey) !== envelope.from) {
    throw new DpnError(
      "IDENTITY_INVALID",
      "The sender id does not match the public keys sent with it.",
      {
        hint: "Send the public keys of the identity that signed the envelope.",
      },
    );
  }
  const body = open(envelope, identity, {
    nowMs: context.nowMs,
    policy: context.policy,
    notBeforeMs: context.startedAtMs,
  });
  const parsed = parseMessage(schema, body, kind);
  checkIssuedSince(envelope.issuedAtMs, context.startedAtMs);
  // Before the nonce is remembered: the same envelope may be sent again once the wait is over.
  const retryAfterSec = context.accounts.take(envelope.from, context.nowMs);
  if (retryAfterSec > 0) {
    throw new DpnError(
      "ACCOUNT_RATE_LIMITED",
      `This account sent more signed requests than the node takes (${envelope.from}).`,
      {
        hint: `Retry after ${retryAfterSec} s (the retry-after header); the SDK waits and retries by itself.`,
        details: { retryAfterSec },
      },
    );
  }
  return { sender: envelope.from, body: parsed, envelope, keys: request.keys };
}
