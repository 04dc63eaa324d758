import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { invariant, ledgerError } from "./errors.ts";

/**
 * Merkle commitments to balances, for epoch settlement on chain.
 *
 * Leaf encoding (what a Solidity verifier recomputes):
 *
 *     leaf = sha256(0x00 ‖ uint16be(len(id)) ‖ utf8(id) ‖ int256be(balance))
 *          = sha256(abi.encodePacked(bytes1(0x00), uint16(bytes(id).length), bytes(id), int256(balance)))
 *
 * Leaves are sorted by account id (byte order; ids are ASCII). Inner nodes hash the sorted pair
 * with a different prefix, so a leaf can never pass for a node:
 *
 *     node = sha256(0x01 ‖ min(a, b) ‖ max(a, b))      (bytewise min/max)
 *
 * A level with an odd count carries its last node up unchanged. The root of no leaves is 32 zero
 * bytes. A proof is the list of sibling hashes from the leaf up; because pairs are sorted, the
 * verifier needs no left/right bits (OpenZeppelin MerkleProof style, with sha256).
 */
export interface BalanceLeaf {
  readonly account: string;
  readonly balance: bigint;
}

export interface BalanceProof {
  readonly account: string;
  readonly balance: bigint;
  /** 0x-prefixed hex sibling hashes, leaf level first. */
  readonly siblings: readonly string[];
}

const INT256_MIN = -(2n ** 255n);
const INT256_MAX = 2n ** 255n - 1n;
const EMPTY_ROOT = `0x${"00".repeat(32)}`;

export function leafHash(leaf: BalanceLeaf): Uint8Array {
  const id = utf8ToBytes(leaf.account);
  invariant(id.length <= 0xffff, "an account id is too long for a Merkle leaf", {
    account: leaf.account,
  });
  invariant(
    leaf.balance >= INT256_MIN && leaf.balance <= INT256_MAX,
    "a balance does not fit int256",
  );
  const bytes = new Uint8Array(1 + 2 + id.length + 32);
  bytes[0] = 0x00;
  bytes[1] = id.length >> 8;
  bytes[2] = id.length & 0xff;
  bytes.set(id, 3);
  let value = BigInt.asUintN(256, leaf.balance); // two's complement
  for (let i = bytes.length - 1; i >= 3 + id.length; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return sha256(bytes);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function nodeHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(65);
  bytes[0] = 0x01;
  const [low, high] = compare(a, b) <= 0 ? [a, b] : [b, a];
  bytes.set(low, 1);
  bytes.set(high, 33);
  return sha256(bytes);
}

function sortedLeaves(leaves: readonly BalanceLeaf[]): BalanceLeaf[] {
  const sorted = [...leaves].sort((x, y) =>
    x.account < y.account ? -1 : x.account > y.account ? 1 : 0,
  );
  for (let i = 1; i < sorted.length; i++) {
    invariant(sorted[i - 1]?.account !== sorted[i]?.account, "two Merkle leaves for one account", {
      account: sorted[i]?.account,
    });
  }
  return sorted;
}

function levels(leaves: readonly BalanceLeaf[]): Uint8Array[][] {
  const tree: Uint8Array[][] = [sortedLeaves(leaves).map(leafHash)];
  for (;;) {
    const level = tree[tree.length - 1] ?? [];
    if (level.length <= 1) return tree;
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Uint8Array;
      const right = level[i + 1];
      next.push(right === undefined ? left : nodeHash(left, right));
    }
    tree.push(next);
  }
}

export function merkleRoot(leaves: readonly BalanceLeaf[]): string {
  if (leaves.length === 0) return EMPTY_ROOT;
  const tree = levels(leaves);
  return `0x${bytesToHex((tree[tree.length - 1] ?? [])[0] as Uint8Array)}`;
}

export function merkleProof(leaves: readonly BalanceLeaf[], account: string): BalanceProof {
  const sorted = sortedLeaves(leaves);
  let index = sorted.findIndex((leaf) => leaf.account === account);
  const leaf = sorted[index];
  if (leaf === undefined) {
    throw ledgerError("LEDGER_UNKNOWN_ACCOUNT", `${account} is not in this snapshot.`, {
      hint: "Snapshots include every account that existed when they were taken; check the epoch.",
      details: { account },
    });
  }
  const tree = levels(sorted);
  const siblings: string[] = [];
  for (const level of tree.slice(0, -1)) {
    const sibling = level[index ^ 1];
    if (sibling !== undefined) siblings.push(`0x${bytesToHex(sibling)}`);
    index >>= 1;
  }
  return { account, balance: leaf.balance, siblings };
}

/** Pure check an on-chain contract mirrors: does `proof` put (account, balance) under `root`? */
export function verifyBalanceProof(root: string, proof: BalanceProof): boolean {
  let hash = leafHash(proof);
  for (const sibling of proof.siblings)
    hash = nodeHash(hash, hexToBytes(sibling.replace(/^0x/, "")));
  return `0x${bytesToHex(hash)}` === root.toLowerCase();
}
