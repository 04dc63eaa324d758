import { type DpnError, isDpnError } from "@dpn/protocol";
import { accountKind } from "./accounts.ts";
import { type Command, commandContent, type PostingCommand } from "./commands.ts";
import { invariant, ledgerError } from "./errors.ts";
import { planCommand } from "./plan.ts";
import { assertBalanceAllowed, balancedEntries, encodeEntries, type Posting } from "./postings.ts";
import type {
  AccountState,
  HoldState,
  LedgerState,
  MetaState,
  StakeState,
  StoredPosting,
  UnbondingState,
} from "./state.ts";

/**
 * The batch executor shared by every store. Given the commands of one group commit and a view of
 * the committed state, it runs each command in order against the committed state plus the
 * batch's own earlier changes, so a command that fails (insufficient funds, a conflict) fails
 * alone and its neighbours still commit. It returns each command's outcome and the rows to
 * write; the store writes them in one transaction and settles the callers after COMMIT.
 */
export type CommandOutcome =
  | { readonly ok: true; readonly value: Posting | AccountState }
  | { readonly ok: false; readonly error: DpnError };

export interface PostingRow {
  readonly seq: number;
  readonly idempotencyKey: string;
  readonly kind: PostingCommand["kind"];
  readonly atMs: number;
  readonly content: string;
  readonly entries: string;
  readonly receiptId: string | null;
}

export interface EntryRow {
  readonly account: string;
  readonly seq: number;
  readonly amount: bigint;
  readonly balanceAfter: bigint;
  readonly atMs: number;
}

/**
 * Rows a batch creates (INSERT: a concurrent creator makes the transaction fail on the unique
 * key, and it is retried) and rows it changes (the store read, and on PostgreSQL locked, them).
 */
export interface Changes<T> {
  readonly inserted: T[];
  readonly updated: T[];
}

export interface BatchWrites {
  readonly postings: PostingRow[];
  readonly entries: EntryRow[];
  /** Final state of every account opened or changed by the batch. */
  readonly accounts: Changes<AccountState>;
  readonly holds: Changes<HoldState>;
  readonly stakes: Changes<StakeState>;
  readonly unbondings: Changes<UnbondingState>;
  readonly meta: MetaState | null;
}

/** Hands out posting sequence numbers; only successful commands take one. */
export interface SeqSource {
  peek(): number;
  take(): number;
}

export function counterSeqs(lastSeq: number): SeqSource {
  let next = lastSeq + 1;
  return {
    peek: () => next,
    take: () => next++,
  };
}

export function runBatch(
  commands: readonly Command[],
  base: LedgerState,
  seqs: SeqSource,
): { outcomes: CommandOutcome[]; writes: BatchWrites } {
  const state = new BatchState(base);
  const outcomes: CommandOutcome[] = [];
  for (const command of commands) {
    try {
      outcomes.push({ ok: true, value: state.execute(command, seqs) });
    } catch (error) {
      // Operating errors fail one command. Broken invariants and non-ledger exceptions are bugs:
      // they abort the whole batch before anything is written.
      if (!isDpnError(error) || error.code === "LEDGER_INVARIANT_BROKEN") throw error;
      outcomes.push({ ok: false, error });
    }
  }
  return { outcomes, writes: state.writes() };
}

class BatchState implements LedgerState {
  private readonly accounts = new Map<string, AccountState>();
  private readonly holds = new Map<string, HoldState>();
  private readonly stakes = new Map<string, StakeState>();
  private readonly pending = new Map<string, UnbondingState[]>();
  private readonly changedUnbondings = new Map<number, UnbondingState>();
  /** Unbondings that were committed before this batch (updated, not inserted). */
  private readonly unbondingExisted = new Set<number>();
  private readonly receipts = new Map<string, number>();
  private readonly postings = new Map<string, StoredPosting>();
  private readonly postingRows: PostingRow[] = [];
  private readonly entryRows: EntryRow[] = [];
  private metaState: MetaState | null = null;

  constructor(private readonly base: LedgerState) {}

  account(id: string): AccountState | undefined {
    return this.accounts.get(id) ?? this.base.account(id);
  }
  hold(id: string): HoldState | undefined {
    return this.holds.get(id) ?? this.base.hold(id);
  }
  stake(account: string): StakeState | undefined {
    return this.stakes.get(account) ?? this.base.stake(account);
  }
  unbondings(account: string): readonly UnbondingState[] {
    return this.pending.get(account) ?? this.base.unbondings(account);
  }
  receiptSeq(receiptId: string): number | undefined {
    return this.receipts.get(receiptId) ?? this.base.receiptSeq(receiptId);
  }
  postingByKey(idempotencyKey: string): StoredPosting | undefined {
    return this.postings.get(idempotencyKey) ?? this.base.postingByKey(idempotencyKey);
  }
  meta(): MetaState {
    return this.metaState ?? this.base.meta();
  }

  execute(command: Command, seqs: SeqSource): Posting | AccountState {
    if (command.kind === "openAccount") {
      const existing = this.account(command.account);
      if (existing !== undefined) return existing;
      const opened: AccountState = {
        id: command.account,
        kind: accountKind(command.account),
        balance: 0n,
        openedAtMs: command.atMs,
        updatedAtMs: command.atMs,
        lastSeq: 0,
      };
      this.accounts.set(opened.id, opened);
      return opened;
    }
    const content = commandContent(command);
    const previous = this.postingByKey(command.idempotencyKey);
    if (previous !== undefined) {
      if (previous.content === content) return previous.posting;
      throw ledgerError(
        "LEDGER_IDEMPOTENCY_CONFLICT",
        `Idempotency key ${command.idempotencyKey} was already used by posting ${previous.posting.seq} with different content.`,
        {
          hint: "Reuse a key only to retry the identical operation; use a new key for a new operation.",
          details: {
            idempotencyKey: command.idempotencyKey,
            seq: previous.posting.seq,
            stored: previous.content,
            given: content,
          },
        },
      );
    }
    const seq = seqs.peek();
    const plan = planCommand(command, this, seq);
    for (const id of plan.opens ?? []) {
      if (this.account(id) !== undefined) continue;
      this.accounts.set(id, {
        id,
        kind: accountKind(id),
        balance: 0n,
        openedAtMs: command.atMs,
        updatedAtMs: command.atMs,
        lastSeq: 0,
      });
    }
    const entries = balancedEntries(plan.deltas);
    // Recorded time never runs backwards for an account, so point-in-time reads by time are
    // well defined even when callers' clocks disagree.
    let atMs = command.atMs;
    const touched: AccountState[] = [];
    for (const entry of entries) {
      const account = this.account(entry.account);
      invariant(account !== undefined, "a planner posted to an account it did not check", {
        account: entry.account,
      });
      invariant(account.lastSeq < seq, "posting sequence went backwards", {
        account: entry.account,
        lastSeq: account.lastSeq,
        seq,
      });
      if (account.updatedAtMs > atMs) atMs = account.updatedAtMs;
      touched.push(account);
    }
    invariant(seqs.take() === seq, "sequence source changed during a command");
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const account = touched[i];
      invariant(entry !== undefined && account !== undefined, "entries and accounts out of step");
      const balance = account.balance + entry.amount;
      assertBalanceAllowed(account.id, balance);
      this.accounts.set(account.id, { ...account, balance, updatedAtMs: atMs, lastSeq: seq });
      this.entryRows.push({
        account: account.id,
        seq,
        amount: entry.amount,
        balanceAfter: balance,
        atMs,
      });
    }
    for (const hold of plan.holds ?? []) this.holds.set(hold.id, hold);
    if (plan.stake !== undefined) this.stakes.set(plan.stake.account, plan.stake);
    for (const unbonding of plan.unbondings ?? []) this.applyUnbonding(unbonding);
    if (plan.meta !== undefined) this.metaState = plan.meta;
    if (plan.receiptId !== undefined) this.receipts.set(plan.receiptId, seq);
    const posting: Posting = {
      seq,
      idempotencyKey: command.idempotencyKey,
      kind: command.kind,
      atMs,
      entries,
      command: JSON.parse(content) as Posting["command"],
    };
    this.postings.set(command.idempotencyKey, { posting, content });
    this.postingRows.push({
      seq,
      idempotencyKey: command.idempotencyKey,
      kind: command.kind,
      atMs,
      content,
      entries: encodeEntries(entries),
      receiptId: plan.receiptId ?? null,
    });
    return posting;
  }

  private applyUnbonding(unbonding: UnbondingState): void {
    const list = [...this.unbondings(unbonding.account)];
    const index = list.findIndex((u) => u.id === unbonding.id);
    if (index >= 0) {
      list.splice(index, 1);
      if (!this.changedUnbondings.has(unbonding.id)) this.unbondingExisted.add(unbonding.id);
    }
    if (unbonding.status === "pending") {
      list.push(unbonding);
      list.sort((a, b) => a.id - b.id);
    }
    this.pending.set(unbonding.account, list);
    this.changedUnbondings.set(unbonding.id, unbonding);
  }

  writes(): BatchWrites {
    return {
      postings: this.postingRows,
      entries: this.entryRows,
      accounts: split(this.accounts, (id) => this.base.account(id) !== undefined),
      holds: split(this.holds, (id) => this.base.hold(id) !== undefined),
      stakes: split(this.stakes, (account) => this.base.stake(account) !== undefined),
      unbondings: split(this.changedUnbondings, (id) => this.unbondingExisted.has(id)),
      meta: this.metaState,
    };
  }
}

function split<K, T>(rows: ReadonlyMap<K, T>, existed: (key: K) => boolean): Changes<T> {
  const changes: Changes<T> = { inserted: [], updated: [] };
  for (const [key, row] of rows) (existed(key) ? changes.updated : changes.inserted).push(row);
  return changes;
}
