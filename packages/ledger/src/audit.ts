import { AMM_MINIMUM_LIQUIDITY, formatDpn } from "@dpn/protocol";
import type { Kysely } from "kysely";
import { MARKET_ACCOUNTS, mayGoNegative, SYSTEM_ACCOUNT_IDS, SYSTEM_ACCOUNTS } from "./accounts.ts";
import { ASSETS, type Asset, assetOf } from "./assets.ts";
import { decodeEntries } from "./postings.ts";
import type { MetaState } from "./state.ts";
import {
  selectAllAccounts,
  selectMeta,
  selectOpenHoldsTotal,
  selectPendingAmounts,
  selectPostingsAfter,
  selectStakeAmounts,
} from "./stores/queries.ts";
import { metaFromRows } from "./stores/rows.ts";
import type { LedgerDatabase } from "./stores/schema.ts";

/**
 * The audit (`ledger.verify()`): recomputes every balance from the postings and checks the
 * ledger's invariants. One implementation for both stores: it pages through the tables with the
 * shared queries inside one read transaction (a consistent snapshot), in O(accounts) memory.
 */
export interface AuditCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was checked, or the first offenders when it failed. */
  readonly detail: string;
}

export interface SupplyReport {
  readonly cap: bigint;
  /** -balance(system:issuance): genesis plus replenishments. */
  readonly issued: bigint;
  readonly genesis: bigint;
  readonly replenished: bigint;
  readonly burned: bigint;
  /** Σ of every balance except issuance and burn sink = issued - burned. */
  readonly outstanding: bigint;
  readonly emissionPool: bigint;
  readonly escrow: bigint;
  readonly bonded: bigint;
  readonly unbonding: bigint;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly checks: readonly AuditCheck[];
  readonly supply: SupplyReport;
  readonly accounts: number;
  readonly postings: number;
  readonly entries: number;
}

/** How many offenders a failed check names: enough to debug, bounded for logs. */
export const MAX_AUDIT_FINDINGS = 10;
/** Rows per page while scanning: bounds memory per query and keeps PostgreSQL round trips few. */
export const AUDIT_PAGE_ROWS = 5_000;

interface AccountTally {
  /** From the postings' own entry lists. */
  postedSum: bigint;
  postedCount: number;
  /** From the entries table. */
  tableSum: bigint;
  tableCount: number;
  lastSeq: number;
  lastBalanceAfter: bigint;
  lastAtMs: number;
}

class Findings {
  readonly list: string[] = [];
  count = 0;
  add(text: string): void {
    this.count += 1;
    if (this.list.length < MAX_AUDIT_FINDINGS) this.list.push(text);
  }
  check(name: string, okDetail: string): AuditCheck {
    return this.count === 0
      ? { name, ok: true, detail: okDetail }
      : { name, ok: false, detail: `${this.count} problem(s): ${this.list.join("; ")}` };
  }
}

export async function auditLedger(db: Kysely<LedgerDatabase>): Promise<AuditReport> {
  const tallies = new Map<string, AccountTally>();
  const tally = (account: string): AccountTally => {
    let t = tallies.get(account);
    if (t === undefined) {
      t = {
        postedSum: 0n,
        postedCount: 0,
        tableSum: 0n,
        tableCount: 0,
        lastSeq: 0,
        lastBalanceAfter: 0n,
        lastAtMs: 0,
      };
      tallies.set(account, t);
    }
    return t;
  };

  // 1. Every posting set sums to zero, has >= 2 distinct, non-zero lines.
  const unbalanced = new Findings();
  let postings = 0;
  let genesisPostings = 0;
  let afterSeq = 0;
  for (;;) {
    const page = await selectPostingsAfter(db, afterSeq, AUDIT_PAGE_ROWS).execute();
    for (const row of page) {
      postings += 1;
      const seq = Number(row.seq);
      if (row.kind === "genesis") genesisPostings += 1;
      const entries = decodeEntries(row.entries);
      // Each asset balances on its own (assets.ts): a swap's DPN and stable lines both net out.
      const sums = new Map<Asset, bigint>();
      const seen = new Set<string>();
      for (const entry of entries) {
        const asset = assetOf(entry.account);
        sums.set(asset, (sums.get(asset) ?? 0n) + entry.amount);
        if (entry.amount === 0n || seen.has(entry.account))
          unbalanced.add(`posting ${seq} has a zero or repeated line for ${entry.account}`);
        seen.add(entry.account);
        const t = tally(entry.account);
        t.postedSum += entry.amount;
        t.postedCount += 1;
      }
      for (const [asset, sum] of sums) {
        if (sum !== 0n) unbalanced.add(`posting ${seq}'s ${asset} lines sum to ${sum}`);
      }
      if (entries.length < 2) unbalanced.add(`posting ${seq} has ${entries.length} line(s)`);
      afterSeq = seq;
    }
    if (page.length < AUDIT_PAGE_ROWS) break;
  }

  // 2. The entries table, account by account in seq order: running balances chain.
  const chain = new Findings();
  let entryCount = 0;
  let afterAccount = "";
  let afterEntrySeq = 0;
  for (;;) {
    const page = await db
      .selectFrom("entries")
      .selectAll()
      .where((eb) =>
        eb.or([
          eb("account_id", ">", afterAccount),
          eb.and([eb("account_id", "=", afterAccount), eb("seq", ">", afterEntrySeq)]),
        ]),
      )
      .orderBy("account_id")
      .orderBy("seq")
      .limit(AUDIT_PAGE_ROWS)
      .execute();
    for (const row of page) {
      entryCount += 1;
      const seq = Number(row.seq);
      const atMs = Number(row.at_ms);
      const t = tally(row.account_id);
      const amount = BigInt(row.amount);
      t.tableSum += amount;
      t.tableCount += 1;
      if (seq <= t.lastSeq) chain.add(`${row.account_id} entry ${seq} is out of order`);
      if (atMs < t.lastAtMs) chain.add(`${row.account_id} entry ${seq} goes back in time`);
      if (BigInt(row.balance_after) !== t.tableSum) {
        chain.add(
          `${row.account_id} entry ${seq} says balance ${row.balance_after}, entries sum to ${t.tableSum}`,
        );
      }
      t.lastSeq = seq;
      t.lastAtMs = atMs;
      t.lastBalanceAfter = BigInt(row.balance_after);
      afterAccount = row.account_id;
      afterEntrySeq = seq;
    }
    if (page.length < AUDIT_PAGE_ROWS) break;
  }

  // 3. Materialised balances, the sum of balances, negatives.
  const accounts = await selectAllAccounts(db).execute();
  const materialised = new Findings();
  const matching = new Findings();
  const negative = new Findings();
  const balances = new Map<string, bigint>();
  const totals = new Map<Asset, bigint>(ASSETS.map((asset) => [asset, 0n]));
  for (const row of accounts) {
    const balance = BigInt(row.balance);
    balances.set(row.id, balance);
    const asset = assetOf(row.id);
    totals.set(asset, (totals.get(asset) ?? 0n) + balance);
    const t = tally(row.id);
    if (t.postedSum !== t.tableSum || t.postedCount !== t.tableCount) {
      matching.add(
        `${row.id}: postings list ${t.postedCount} line(s) summing to ${t.postedSum}, the entries table ${t.tableCount} summing to ${t.tableSum}`,
      );
    }
    if (
      balance !== t.tableSum ||
      (t.tableCount > 0 && balance !== t.lastBalanceAfter) ||
      Number(row.last_seq) !== t.lastSeq
    ) {
      materialised.add(
        `${row.id} stores ${balance} (last seq ${row.last_seq}), entries give ${t.tableSum} (last seq ${t.lastSeq})`,
      );
    }
    if (balance < 0n && !mayGoNegative(row.id))
      negative.add(`${row.id} is ${formatDpn(balance)} DPN`);
  }
  for (const account of tallies.keys()) {
    if (!balances.has(account)) matching.add(`${account} has entries but no account row`);
  }
  const missingSystem = SYSTEM_ACCOUNT_IDS.filter((id) => !balances.has(id));

  // 4. Supply and the sub-ledgers.
  const meta: MetaState = metaFromRows(await selectMeta(db).execute());
  const sum = (rows: readonly Record<string, string>[], column: string): bigint =>
    rows.reduce((s, row) => s + BigInt(row[column] ?? "0"), 0n);
  const openHolds = sum(await selectOpenHoldsTotal(db).execute(), "amount");
  const bonded = sum(await selectStakeAmounts(db).execute(), "bonded");
  const pending = sum(await selectPendingAmounts(db).execute(), "amount");
  const balanceOf = (id: string): bigint => balances.get(id) ?? 0n;
  const total = totals.get("DPN") ?? 0n;
  const issued = -balanceOf(SYSTEM_ACCOUNTS.issuance);
  const burned = balanceOf(SYSTEM_ACCOUNTS.burn);
  const supply: SupplyReport = {
    cap: meta.cap,
    issued,
    genesis: meta.genesisTotal,
    replenished: meta.replenishedTotal,
    burned,
    outstanding: total - balanceOf(SYSTEM_ACCOUNTS.issuance) - burned,
    emissionPool: balanceOf(SYSTEM_ACCOUNTS.emissionPool),
    escrow: balanceOf(SYSTEM_ACCOUNTS.escrow),
    bonded: balanceOf(SYSTEM_ACCOUNTS.stake),
    unbonding: balanceOf(SYSTEM_ACCOUNTS.unbonding),
  };

  const supplyFindings = new Findings();
  if (issued !== meta.genesisTotal + meta.replenishedTotal) {
    supplyFindings.add(
      `issued ${issued} != genesis ${meta.genesisTotal} + replenished ${meta.replenishedTotal}`,
    );
  }
  if (supply.outstanding !== issued - burned) {
    supplyFindings.add(`outstanding ${supply.outstanding} != issued ${issued} - burned ${burned}`);
  }
  if (supply.outstanding > meta.cap)
    supplyFindings.add(`outstanding ${supply.outstanding} exceeds the cap ${meta.cap}`);
  if (meta.genesisSeq === null ? genesisPostings !== 0 || issued !== 0n : genesisPostings !== 1) {
    supplyFindings.add(
      `${genesisPostings} genesis posting(s), meta says genesis at ${meta.genesisSeq}`,
    );
  }
  if (meta.burnMark > burned)
    supplyFindings.add(`burn mark ${meta.burnMark} is above the burn sink ${burned}`);

  const subLedgers = new Findings();
  if (supply.escrow !== openHolds)
    subLedgers.add(`escrow holds ${supply.escrow}, open holds add up to ${openHolds}`);
  if (supply.bonded !== bonded)
    subLedgers.add(`stake holds ${supply.bonded}, bonded stakes add up to ${bonded}`);
  if (supply.unbonding !== pending)
    subLedgers.add(`unbonding holds ${supply.unbonding}, pending unbondings add up to ${pending}`);

  const sumFindings = new Findings();
  for (const [asset, assetTotal] of totals) {
    if (assetTotal !== 0n) sumFindings.add(`${asset} balances sum to ${assetTotal}`);
  }

  // 5. The AMM pool: empty, or both reserves > 0 with the minimum liquidity locked.
  const poolFindings = new Findings();
  const poolDpn = balanceOf(SYSTEM_ACCOUNTS.ammPool);
  const poolStable = balanceOf(MARKET_ACCOUNTS.ammPoolStable);
  const shares = -balanceOf(MARKET_ACCOUNTS.sharesIssuance);
  const locked = balanceOf(MARKET_ACCOUNTS.sharesLocked);
  const empty = poolDpn === 0n && poolStable === 0n && shares === 0n && locked === 0n;
  const live = poolDpn > 0n && poolStable > 0n && locked === AMM_MINIMUM_LIQUIDITY;
  if (!empty && !live) {
    poolFindings.add(
      `pool holds ${poolDpn} DPN, ${poolStable} stable, ${shares} shares (${locked} locked)`,
    );
  }
  if (meta.ammLastUpdateMs === 0 ? meta.ammPriceCumulative !== 0n : meta.ammPriceCumulative < 0n) {
    poolFindings.add(`TWAP accumulator ${meta.ammPriceCumulative} at ${meta.ammLastUpdateMs}`);
  }
  const systemFindings = new Findings();
  for (const id of missingSystem) systemFindings.add(`${id} is missing`);

  const checks: AuditCheck[] = [
    systemFindings.check(
      "system accounts exist",
      `${SYSTEM_ACCOUNT_IDS.length} system accounts present`,
    ),
    unbalanced.check("every posting set sums to zero", `${postings} postings balanced`),
    matching.check(
      "entries table matches the postings",
      `${entryCount} entries match their postings`,
    ),
    chain.check("running balances chain", `${entryCount} running balances recomputed`),
    materialised.check(
      "materialised balances equal the sum of entries",
      `${accounts.length} accounts match`,
    ),
    sumFindings.check("balances sum to zero", "Σ balances = 0 for each asset (issuance included)"),
    negative.check("no negative balance outside issuance", "no forbidden negative balance"),
    supplyFindings.check(
      "supply within the cap",
      `outstanding ${formatDpn(supply.outstanding)} = issued ${formatDpn(issued)} - burned ${formatDpn(burned)} <= cap ${formatDpn(meta.cap)}`,
    ),
    subLedgers.check(
      "control accounts equal their sub-ledgers",
      "escrow, stake and unbonding match holds and stakes",
    ),
    poolFindings.check(
      "AMM pool consistent",
      empty ? "pool empty" : "both reserves > 0, minimum liquidity locked",
    ),
  ];
  return {
    ok: checks.every((c) => c.ok),
    checks,
    supply,
    accounts: accounts.length,
    postings,
    entries: entryCount,
  };
}
