import type { Insertable, Selectable } from "kysely";
import type { AccountKind } from "../accounts.ts";
import type { EntryRow, PostingRow } from "../batch.ts";
import type { PostingKind } from "../commands.ts";
import { invariant } from "../errors.ts";
import { decodeEntries, type Posting } from "../postings.ts";
import type {
  AccountState,
  HoldState,
  HoldStatus,
  MetaState,
  StakeState,
  StoredPosting,
  UnbondingState,
} from "../state.ts";
import type {
  AccountsTable,
  EntriesTable,
  HoldsTable,
  MetaTable,
  PostingsTable,
  StakesTable,
  UnbondingsTable,
} from "./schema.ts";

/** Conversions between table rows (decimal strings) and ledger state (bigints). */

function int(value: number | string | bigint): number {
  const n = Number(value);
  invariant(Number.isSafeInteger(n), "a stored integer is not a safe integer", {
    value: String(value),
  });
  return n;
}

export function accountFromRow(row: Selectable<AccountsTable>): AccountState {
  return {
    id: row.id,
    kind: row.kind as AccountKind,
    balance: BigInt(row.balance),
    openedAtMs: int(row.opened_at_ms),
    updatedAtMs: int(row.updated_at_ms),
    lastSeq: int(row.last_seq),
  };
}

export function accountToRow(account: AccountState): Insertable<AccountsTable> {
  return {
    id: account.id,
    kind: account.kind,
    balance: account.balance.toString(),
    opened_at_ms: account.openedAtMs,
    updated_at_ms: account.updatedAtMs,
    last_seq: account.lastSeq,
  };
}

export function holdFromRow(row: Selectable<HoldsTable>): HoldState {
  return {
    id: row.id,
    account: row.account_id,
    amount: BigInt(row.amount),
    captured: BigInt(row.captured),
    status: row.status as HoldStatus,
    expiresAtMs: int(row.expires_at_ms),
    placedSeq: int(row.placed_seq),
    closedSeq: row.closed_seq === null ? null : int(row.closed_seq),
  };
}

export function holdToRow(hold: HoldState): Insertable<HoldsTable> {
  return {
    id: hold.id,
    account_id: hold.account,
    amount: hold.amount.toString(),
    captured: hold.captured.toString(),
    status: hold.status,
    expires_at_ms: hold.expiresAtMs,
    placed_seq: hold.placedSeq,
    closed_seq: hold.closedSeq,
  };
}

export function stakeFromRow(row: Selectable<StakesTable>): StakeState {
  return { account: row.account_id, bonded: BigInt(row.bonded) };
}

export function stakeToRow(stake: StakeState): Insertable<StakesTable> {
  return { account_id: stake.account, bonded: stake.bonded.toString() };
}

export function unbondingFromRow(row: Selectable<UnbondingsTable>): UnbondingState {
  return {
    id: int(row.id),
    account: row.account_id,
    amount: BigInt(row.amount),
    releaseAtMs: int(row.release_at_ms),
    status: row.status as UnbondingState["status"],
  };
}

export function unbondingToRow(unbonding: UnbondingState): Insertable<UnbondingsTable> {
  return {
    id: unbonding.id,
    account_id: unbonding.account,
    amount: unbonding.amount.toString(),
    release_at_ms: unbonding.releaseAtMs,
    status: unbonding.status,
  };
}

export function postingToRow(row: PostingRow): Insertable<PostingsTable> {
  return {
    seq: row.seq,
    idempotency_key: row.idempotencyKey,
    kind: row.kind,
    at_ms: row.atMs,
    content: row.content,
    entries: row.entries,
    receipt_id: row.receiptId,
  };
}

export function postingFromRow(row: Selectable<PostingsTable>): StoredPosting {
  const posting: Posting = {
    seq: int(row.seq),
    idempotencyKey: row.idempotency_key,
    kind: row.kind as PostingKind,
    atMs: int(row.at_ms),
    entries: decodeEntries(row.entries),
    command: JSON.parse(row.content) as Posting["command"],
  };
  return { posting, content: row.content };
}

export function entryToRow(entry: EntryRow): Insertable<EntriesTable> {
  return {
    account_id: entry.account,
    seq: entry.seq,
    amount: entry.amount.toString(),
    balance_after: entry.balanceAfter.toString(),
    at_ms: entry.atMs,
  };
}

/** The meta table is key/value text; these are its keys. */
export const META_KEYS = [
  "genesis_seq",
  "cap",
  "genesis_total",
  "replenished_total",
  "burn_mark",
  "amm_price_cumulative",
  "amm_last_update_ms",
] as const;

export function metaFromRows(rows: readonly Selectable<MetaTable>[]): MetaState {
  const map = new Map(rows.map((row) => [row.key, row.value]));
  const get = (key: (typeof META_KEYS)[number]): string => {
    const value = map.get(key);
    invariant(value !== undefined, "a meta row is missing", { key });
    return value;
  };
  const genesisSeq = get("genesis_seq");
  return {
    genesisSeq: genesisSeq === "" ? null : int(genesisSeq),
    cap: BigInt(get("cap")),
    genesisTotal: BigInt(get("genesis_total")),
    replenishedTotal: BigInt(get("replenished_total")),
    burnMark: BigInt(get("burn_mark")),
    ammPriceCumulative: BigInt(get("amm_price_cumulative")),
    ammLastUpdateMs: int(get("amm_last_update_ms")),
  };
}

export function metaToRows(meta: MetaState): Insertable<MetaTable>[] {
  return [
    { key: "genesis_seq", value: meta.genesisSeq === null ? "" : String(meta.genesisSeq) },
    { key: "cap", value: meta.cap.toString() },
    { key: "genesis_total", value: meta.genesisTotal.toString() },
    { key: "replenished_total", value: meta.replenishedTotal.toString() },
    { key: "burn_mark", value: meta.burnMark.toString() },
    { key: "amm_price_cumulative", value: meta.ammPriceCumulative.toString() },
    { key: "amm_last_update_ms", value: String(meta.ammLastUpdateMs) },
  ];
}
