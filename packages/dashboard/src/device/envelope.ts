import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";

/**
 * The signed message format of docs/protocol.md §Messages, for the browser: the same bytes as
 * @dpn/wire's envelope.ts (which relies on node:crypto and Buffer), built on WebCrypto Ed25519
 * and @noble/post-quantum's ML-DSA-44. envelope.test.ts checks both directions against @dpn/wire.
 */
export interface Envelope {
  readonly v: 1;
  readonly kind: string;
  readonly from: string;
  readonly nonce: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  readonly payload: string;
  readonly sigEd25519: string;
  readonly sigMldsa44: string;
}

/** WebCrypto's key type, named without the DOM lib so Node's type-check reads this file too. */
export type SigningKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** A browser identity: a non-extractable Ed25519 WebCrypto key and an ML-DSA-44 secret key. */
export interface BrowserIdentity {
  readonly id: string;
  readonly ed25519PublicKey: Uint8Array;
  readonly mldsa44PublicKey: Uint8Array;
  readonly ed25519PrivateKey: SigningKey;
  readonly mldsa44SecretKey: Uint8Array;
}

export interface PublicKeys {
  readonly id: string;
  readonly ed25519PublicKey: Uint8Array;
  readonly mldsa44PublicKey: Uint8Array;
}

/** What is kept in the browser's storage: the two 32-byte seeds, base64. */
export interface StoredKeys {
  readonly ed25519Seed: string;
  readonly mldsa44Seed: string;
}

/** Same as @dpn/wire: a message lives at most 5 minutes, and clocks may differ by 30 s. */
export const MAX_ENVELOPE_TTL_MS = 5 * 60_000;
export const MAX_CLOCK_SKEW_MS = 30_000;
const TTL_MS = 60_000;
/** RFC 8410 PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = hexToBytes("302e020100300506032b657004220420");

export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) throw new Error("not hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

export function base64ToBytes(base64: string): Uint8Array {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** A copy backed by a plain ArrayBuffer, as WebCrypto's BufferSource wants. */
function buffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buffer(bytes)));
}

/** "dpn_" + the first 20 bytes of SHA-256(Ed25519 public key ‖ ML-DSA-44 public key), hex. */
export async function identityId(ed: Uint8Array, mldsa: Uint8Array): Promise<string> {
  const both = new Uint8Array(ed.length + mldsa.length);
  both.set(ed, 0);
  both.set(mldsa, ed.length);
  return `dpn_${bytesToHex((await sha256(both)).subarray(0, 20))}`;
}

/** Rebuilds an identity from its seeds (the same derivation as @dpn/wire's identityFromSeeds). */
export async function identityFromSeeds(stored: StoredKeys): Promise<BrowserIdentity> {
  const edSeed = base64ToBytes(stored.ed25519Seed);
  const pqSeed = base64ToBytes(stored.mldsa44Seed);
  if (edSeed.length !== 32 || pqSeed.length !== 32) throw new Error("a key seed is not 32 bytes");
  const pkcs8 = new Uint8Array(ED25519_PKCS8_PREFIX.length + 32);
  pkcs8.set(ED25519_PKCS8_PREFIX, 0);
  pkcs8.set(edSeed, ED25519_PKCS8_PREFIX.length);
  // Extractable only long enough to read the public key from the JWK.
  const extractable = await crypto.subtle.importKey("pkcs8", buffer(pkcs8), "Ed25519", true, [
    "sign",
  ]);
  const jwk = await crypto.subtle.exportKey("jwk", extractable);
  if (typeof jwk.x !== "string") throw new Error("WebCrypto returned an Ed25519 JWK without x");
  const ed25519PublicKey = base64ToBytes(jwk.x.replace(/-/g, "+").replace(/_/g, "/"));
  const ed25519PrivateKey = await crypto.subtle.importKey(
    "pkcs8",
    buffer(pkcs8),
    "Ed25519",
    false,
    ["sign"],
  );
  const pq = ml_dsa44.keygen(pqSeed);
  return {
    id: await identityId(ed25519PublicKey, pq.publicKey),
    ed25519PublicKey,
    mldsa44PublicKey: pq.publicKey,
    ed25519PrivateKey,
    mldsa44SecretKey: pq.secretKey,
  };
}

/** Fresh seeds from the browser's randomness. */
export function newSeeds(): StoredKeys {
  return {
    ed25519Seed: bytesToBase64(crypto.getRandomValues(new Uint8Array(32))),
    mldsa44Seed: bytesToBase64(crypto.getRandomValues(new Uint8Array(32))),
  };
}

function signingBytes(e: Omit<Envelope, "sigEd25519" | "sigMldsa44" | "v">): Uint8Array {
  return new TextEncoder().encode(
    `dpn/v1\n${e.kind}\n${e.from}\n${e.nonce}\n${e.issuedAtMs}\n${e.expiresAtMs}\n${e.payload}`,
  );
}

/** Signs `body` as a message of `kind`, with both keys. */
export async function seal(
  identity: BrowserIdentity,
  kind: string,
  body: unknown,
  nowMs: number,
): Promise<Envelope> {
  const unsigned = {
    kind,
    from: identity.id,
    nonce: bytesToHex(crypto.getRandomValues(new Uint8Array(16))),
    issuedAtMs: nowMs,
    expiresAtMs: nowMs + TTL_MS,
    payload: JSON.stringify(body),
  };
  const bytes = signingBytes(unsigned);
  const ed = new Uint8Array(
    await crypto.subtle.sign("Ed25519", identity.ed25519PrivateKey, buffer(bytes)),
  );
  const pq = ml_dsa44.sign(bytes, identity.mldsa44SecretKey);
  return { v: 1, ...unsigned, sigEd25519: bytesToBase64(ed), sigMldsa44: bytesToBase64(pq) };
}

/**
 * Checks a message from `sender` (the node): shape, time window and both signatures; returns its
 * parsed body. Throws an Error naming what failed.
 */
export async function openEnvelope(
  value: unknown,
  sender: PublicKeys,
  nowMs: number,
): Promise<{ kind: string; body: unknown }> {
  if (typeof value !== "object" || value === null) throw new Error("message is not an object");
  const e = value as Partial<Record<keyof Envelope, unknown>>;
  if (
    e.v !== 1 ||
    typeof e.kind !== "string" ||
    typeof e.from !== "string" ||
    typeof e.nonce !== "string" ||
    typeof e.payload !== "string" ||
    typeof e.sigEd25519 !== "string" ||
    typeof e.sigMldsa44 !== "string" ||
    typeof e.issuedAtMs !== "number" ||
    typeof e.expiresAtMs !== "number"
  ) {
    throw new Error("message is not a DPN envelope");
  }
  const envelope: Envelope = {
    v: 1,
    kind: e.kind,
    from: e.from,
    nonce: e.nonce,
    issuedAtMs: e.issuedAtMs,
    expiresAtMs: e.expiresAtMs,
    payload: e.payload,
    sigEd25519: e.sigEd25519,
    sigMldsa44: e.sigMldsa44,
  };
  if (envelope.from !== sender.id)
    throw new Error(`message is from ${envelope.from}, not the node`);
  if (
    envelope.expiresAtMs < nowMs - MAX_CLOCK_SKEW_MS ||
    envelope.issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS ||
    envelope.expiresAtMs - envelope.issuedAtMs > MAX_ENVELOPE_TTL_MS
  ) {
    throw new Error("message is outside its time window (check this computer's clock)");
  }
  const bytes = signingBytes(envelope);
  const pqValid = ml_dsa44.verify(
    base64ToBytes(envelope.sigMldsa44),
    bytes,
    sender.mldsa44PublicKey,
  );
  const edKey = await crypto.subtle.importKey(
    "raw",
    buffer(sender.ed25519PublicKey),
    "Ed25519",
    false,
    ["verify"],
  );
  const edValid = await crypto.subtle.verify(
    "Ed25519",
    edKey,
    buffer(base64ToBytes(envelope.sigEd25519)),
    buffer(bytes),
  );
  if (!pqValid || !edValid) throw new Error("the node's signature does not verify");
  return { kind: envelope.kind, body: JSON.parse(envelope.payload) as unknown };
}
