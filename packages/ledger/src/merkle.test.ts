import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leafHash, merkleProof, merkleRoot, nodeHash, verifyBalanceProof } from "./merkle.ts";

describe("merkle", () => {
  it("encodes a leaf exactly as abi.encodePacked(0x00, uint16 len, bytes id, int256 balance)", () => {
    const expected = sha256(
      Uint8Array.from([
        0x00,
        0x00,
        0x07,
        ...new TextEncoder().encode("owner:a"),
        ...new Uint8Array(31),
        0x05,
      ]),
    );
    expect(bytesToHex(leafHash({ account: "owner:a", balance: 5n }))).toBe(bytesToHex(expected));
    const minusOne = sha256(
      Uint8Array.from([0x00, 0x00, 0x01, 0x78, ...new Uint8Array(32).fill(0xff)]),
    );
    expect(bytesToHex(leafHash({ account: "x", balance: -1n }))).toBe(bytesToHex(minusOne));
  });

  it("has fixed roots for 0, 1 and 3 leaves", () => {
    expect(merkleRoot([])).toBe(`0x${"00".repeat(32)}`);
    const a = { account: "a", balance: 1n };
    const b = { account: "b", balance: 2n };
    const c = { account: "c", balance: 3n };
    expect(merkleRoot([a])).toBe(`0x${bytesToHex(leafHash(a))}`);
    // Odd level: c is carried up unchanged.
    const expected = nodeHash(nodeHash(leafHash(a), leafHash(b)), leafHash(c));
    expect(merkleRoot([c, a, b])).toBe(`0x${bytesToHex(expected)}`);
  });

  it("proves every leaf of any tree and rejects altered proofs", () => {
    const leaves = fc.uniqueArray(
      fc.record({
        account: fc.stringMatching(/^owner:[a-z0-9]{1,8}$/),
        balance: fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }),
      }),
      {
        selector: (l) => l.account,
        minLength: 1,
        maxLength: 40,
      },
    );
    fc.assert(
      fc.property(leaves, fc.nat(), (list, pick) => {
        const root = merkleRoot(list);
        const target = list[pick % list.length];
        if (target === undefined) return;
        const proof = merkleProof(list, target.account);
        expect(verifyBalanceProof(root, proof)).toBe(true);
        expect(verifyBalanceProof(root, { ...proof, balance: proof.balance + 1n })).toBe(false);
        expect(verifyBalanceProof(root, { ...proof, account: `${proof.account}x` })).toBe(false);
        if (proof.siblings.length > 0) {
          expect(verifyBalanceProof(root, { ...proof, siblings: proof.siblings.slice(1) })).toBe(
            false,
          );
        }
        // Order of input does not matter.
        expect(merkleRoot([...list].reverse())).toBe(root);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it("refuses a proof for an account that is not in the snapshot", () => {
    expect(() => merkleProof([{ account: "a", balance: 1n }], "b")).toThrow(
      expect.objectContaining({ code: "LEDGER_UNKNOWN_ACCOUNT" }),
    );
  });
});
