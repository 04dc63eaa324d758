import type { Selectable } from "kysely";
import { type BalanceLeaf, merkleRoot } from "./merkle.ts";
import type { AccountsTable } from "./stores/schema.ts";

/**
 * Epoch snapshots: every account's balance at one consistent moment, committed to by a Merkle
 * root (merkle.ts) that settlement publishes on chain. The leaves are stored too, so a proof
 * for any account can be served later (ledger.proveBalance).
 */
export interface SnapshotRecord {
  readonly epoch: number;
  /** The last posting included. */
  readonly seq: number;
  /** 0x-prefixed sha256 Merkle root (see merkle.ts for the encoding). */
  readonly root: string;
  readonly leafCount: number;
  readonly atMs: number;
}

export function snapshotLeaves(accounts: readonly Selectable<AccountsTable>[]): BalanceLeaf[] {
  return accounts.map((row) => ({ account: row.id, balance: BigInt(row.balance) }));
}

export function snapshotRecord(
  epoch: number,
  seq: number,
  atMs: number,
  leaves: readonly BalanceLeaf[],
): SnapshotRecord {
  return { epoch, seq, root: merkleRoot(leaves), leafCount: leaves.length, atMs };
}
