import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { seededRng } from "@dpn/protocol";
import { hexToBytes } from "@noble/hashes/utils.js";
import { beforeEach, describe, expect, it } from "vitest";
import {
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  MAX_KEY_TABLES,
  resetEd25519Tables,
} from "./ed25519.ts";

// RFC 8032 §7.1, tests 1 to 3: secret key, public key, message, signature.
const RFC8032 = [
  [
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "",
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  ],
  [
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    "72",
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  ],
  [
    "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    "af82",
    "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  ],
] as const;

const PKCS8_PREFIX = hexToBytes("302e020100300506032b657004220420");

/** The same key in OpenSSL (node:crypto), the implementation this one replaced. */
function openssl(seed: Uint8Array) {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

describe("Ed25519", () => {
  beforeEach(() => resetEd25519Tables());

  it("matches the RFC 8032 test vectors, with and without a cached key table", () => {
    for (const [secret, publicKey, message, signature] of RFC8032) {
      const seed = hexToBytes(secret);
      expect(ed25519PublicKey(seed)).toEqual(hexToBytes(publicKey));
      expect(ed25519Sign(seed, hexToBytes(message))).toEqual(hexToBytes(signature));
      // The first verification of a key is plain; later ones use its table.
      for (let i = 0; i < 3; i++) {
        expect(
          ed25519Verify(hexToBytes(publicKey), hexToBytes(message), hexToBytes(signature)),
        ).toBe(true);
      }
    }
  });

  it("agrees with OpenSSL on genuine and corrupted signatures, for plain and cached keys", () => {
    const rng = seededRng("ed25519-agreement");
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.nextInt(256));
    for (let round = 0; round < 40; round++) {
      const seed = bytes(32);
      const ours = ed25519PublicKey(seed);
      const theirs = openssl(seed);
      const message = bytes(rng.nextInt(200));
      const signature = ed25519Sign(seed, message);
      expect(new Uint8Array(sign(null, message, theirs.privateKey))).toEqual(signature);
      const corrupted = Uint8Array.from(signature);
      const at = rng.nextInt(64);
      corrupted[at] = (corrupted[at] as number) ^ (1 << rng.nextInt(8));
      const otherMessage = Uint8Array.from([...message, 1]);
      for (const [sig, msg] of [
        [signature, message],
        [corrupted, message],
        [signature, otherMessage],
      ] as const) {
        const expected = verify(null, msg, theirs.publicKey, sig);
        // Twice: plain, then (the key earned a table) cached.
        expect(ed25519Verify(ours, msg, sig)).toBe(expected);
        expect(ed25519Verify(ours, msg, sig)).toBe(expected);
      }
    }
  });

  it("refuses s ≥ L, a small-order public key and wrong lengths, cached or not", () => {
    const seed = new Uint8Array(32).fill(5);
    const publicKey = ed25519PublicKey(seed);
    const message = new Uint8Array([1, 2, 3]);
    const signature = ed25519Sign(seed, message);
    // s + L encodes the same residue but is not canonical (RFC 8032 §5.1.7 requires s < L).
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i] as number);
    const malleable = Uint8Array.from(signature);
    let t = s + L;
    for (let i = 32; i < 64; i++) {
      malleable[i] = Number(t & 0xffn);
      t >>= 8n;
    }
    const identityPoint = new Uint8Array(32);
    identityPoint[0] = 1; // the neutral element, of order 1
    for (let i = 0; i < 3; i++) {
      expect(ed25519Verify(publicKey, message, signature)).toBe(true);
      expect(ed25519Verify(publicKey, message, malleable)).toBe(false);
      expect(ed25519Verify(identityPoint, message, signature)).toBe(false);
      expect(ed25519Verify(publicKey.subarray(1), message, signature)).toBe(false);
      expect(ed25519Verify(publicKey, message, signature.subarray(1))).toBe(false);
    }
  });

  it("keeps verifying correctly with more senders than tables", () => {
    const senders = Array.from({ length: MAX_KEY_TABLES + 20 }, (_, i) => {
      const seed = new Uint8Array(32);
      seed[0] = i & 0xff;
      seed[1] = i >> 8;
      const message = new Uint8Array([i & 0xff]);
      return { publicKey: ed25519PublicKey(seed), message, signature: ed25519Sign(seed, message) };
    });
    for (let round = 0; round < 3; round++) {
      for (const { publicKey, message, signature } of senders) {
        expect(ed25519Verify(publicKey, message, signature)).toBe(true);
      }
    }
    const [first, second] = senders;
    if (first === undefined || second === undefined) throw new Error("no senders");
    expect(ed25519Verify(first.publicKey, second.message, first.signature)).toBe(false);
  });
});
