import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { DpnError } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "./encoding.ts";
import {
  type Envelope,
  envelopeDigest,
  envelopeSignatures,
  open,
  parseEnvelope,
  seal,
} from "./envelope.ts";
import { identityFromSeeds, newIdentity, publicIdentity, signHybrid } from "./identity.ts";
import { ReplayGuard } from "./replayGuard.ts";

const alice = identityFromSeeds(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
const mallory = identityFromSeeds(new Uint8Array(32).fill(3), new Uint8Array(32).fill(4));
const now = 1_767_225_600_000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DpnError) return error.code;
    throw error;
  }
  return undefined;
}

describe("identities", () => {
  it("derive the same id from the same seeds", () => {
    const again = identityFromSeeds(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    expect(again.id).toBe(alice.id);
    expect(alice.id).toMatch(/^dpn_[0-9a-f]{40}$/);
    expect(newIdentity().id).not.toBe(alice.id);
  });
});

describe("envelopes", () => {
  const sealed = seal(alice, "job.submit", { budget: "12.5" }, { nowMs: now });

  it("open with both signatures and return the payload", () => {
    expect(open(parseEnvelope(sealed), publicIdentity(alice), { nowMs: now + 1000 })).toEqual({
      budget: "12.5",
    });
  });

  it("reject a changed payload, a foreign signer and a wrong id", () => {
    const changed: Envelope = { ...sealed, payload: JSON.stringify({ budget: "1250" }) };
    expect(codeOf(() => open(changed, publicIdentity(alice), { nowMs: now }))).toBe(
      "ENVELOPE_BAD_SIGNATURE",
    );
    const forged = seal(mallory, "job.submit", { budget: "12.5" }, { nowMs: now });
    const claimed: Envelope = { ...forged, from: alice.id };
    expect(codeOf(() => open(claimed, publicIdentity(alice), { nowMs: now }))).toBe(
      "ENVELOPE_BAD_SIGNATURE",
    );
    expect(codeOf(() => open(forged, publicIdentity(alice), { nowMs: now }))).toBe(
      "ENVELOPE_BAD_SIGNATURE",
    );
  });

  it("reject a message whose Ed25519 signature is broken, unless the policy is pq-only", () => {
    const edBroken: Envelope = { ...sealed, sigEd25519: Buffer.alloc(64).toString("base64") };
    expect(codeOf(() => open(edBroken, publicIdentity(alice), { nowMs: now }))).toBe(
      "ENVELOPE_BAD_SIGNATURE",
    );
    expect(open(edBroken, publicIdentity(alice), { nowMs: now, policy: "pq-only" })).toEqual({
      budget: "12.5",
    });
    const pqBroken: Envelope = { ...sealed, sigMldsa44: Buffer.alloc(2420).toString("base64") };
    expect(
      codeOf(() => open(pqBroken, publicIdentity(alice), { nowMs: now, policy: "pq-only" })),
    ).toBe("ENVELOPE_BAD_SIGNATURE");
  });

  it("reject expired messages and messages from before the receiver started", () => {
    expect(codeOf(() => open(sealed, publicIdentity(alice), { nowMs: now + 10 * 60_000 }))).toBe(
      "ENVELOPE_EXPIRED",
    );
    expect(
      codeOf(() => open(sealed, publicIdentity(alice), { nowMs: now, notBeforeMs: now + 60_000 })),
    ).toBe("ENVELOPE_NOT_YET_VALID");
  });

  it("reject malformed envelopes with a code", () => {
    for (const bad of [
      null,
      5,
      {},
      { ...sealed, v: 2 },
      { ...sealed, nonce: "xyz" },
      { ...sealed, issuedAtMs: "1" },
    ]) {
      expect(codeOf(() => parseEnvelope(bad))).toBe("ENVELOPE_MALFORMED");
    }
  });

  it("are refused the second time by the replay guard", () => {
    const guard = new ReplayGuard();
    guard.check(sealed.from, sealed.nonce, sealed.expiresAtMs, now);
    expect(codeOf(() => guard.check(sealed.from, sealed.nonce, sealed.expiresAtMs, now + 1))).toBe(
      "ENVELOPE_REPLAYED",
    );
    // Forgotten once expired: the expiry check in open() is what rejects it then.
    guard.check("other", "00", now, now);
    guard.check("x", "1", now, now + 20 * 60_000);
    expect(guard.size).toBe(1);
  });
});

describe("compatibility with envelopes sealed before", () => {
  // Sealed by the node:crypto implementation this module replaced, from alice's seeds.
  const vector = JSON.parse(
    readFileSync(new URL("./fixtures/envelope-v1.json", import.meta.url), "utf8"),
  ) as Envelope;

  it("opens an envelope the former implementation sealed", () => {
    expect(
      open(parseEnvelope(vector), publicIdentity(alice), { nowMs: vector.issuedAtMs }),
    ).toEqual({ slots: 3 });
  });

  it("signs the same bytes with the same deterministic Ed25519 signature", () => {
    const bytes = new TextEncoder().encode(
      `dpn/v1\n${vector.kind}\n${vector.from}\n${vector.nonce}\n${vector.issuedAtMs}\n${vector.expiresAtMs}\n${vector.payload}`,
    );
    expect(bytesToBase64(signHybrid(alice, bytes).ed25519)).toBe(vector.sigEd25519);
    const resealed = seal(alice, vector.kind, { slots: 3 }, { nowMs: vector.issuedAtMs });
    expect(Object.keys(resealed)).toEqual(Object.keys(vector));
    expect(resealed.payload).toBe(vector.payload);
  });

  it("names the signed bytes by their SHA-256, and checks signatures without the time window", () => {
    const bytes = `dpn/v1\n${vector.kind}\n${vector.from}\n${vector.nonce}\n${vector.issuedAtMs}\n${vector.expiresAtMs}\n${vector.payload}`;
    expect(envelopeDigest(vector)).toBe(createHash("sha256").update(bytes).digest("hex"));
    // Long expired, as a stored submission is when it is audited.
    expect(() =>
      open(vector, publicIdentity(alice), { nowMs: vector.expiresAtMs + 3_600_000 }),
    ).toThrow();
    expect(envelopeSignatures(vector, publicIdentity(alice))).toEqual({
      ed25519: true,
      mldsa44: true,
    });
    const changed: Envelope = { ...vector, payload: JSON.stringify({ slots: 4 }) };
    expect(envelopeDigest(changed)).not.toBe(envelopeDigest(vector));
    expect(envelopeSignatures(changed, publicIdentity(alice))).toEqual({
      ed25519: false,
      mldsa44: false,
    });
    expect(envelopeSignatures(vector, publicIdentity(mallory))).toEqual({
      ed25519: false,
      mldsa44: false,
    });
  });

  it("treats a signature that is not canonical base64 as one that does not verify", () => {
    const sloppy: Envelope = { ...vector, sigEd25519: vector.sigEd25519.replace(/=+$/, "") };
    expect(codeOf(() => open(sloppy, publicIdentity(alice), { nowMs: vector.issuedAtMs }))).toBe(
      "ENVELOPE_BAD_SIGNATURE",
    );
  });
});
