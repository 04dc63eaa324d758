import { ledgerError } from "./errors.ts";

/**
 * Group commit: concurrent callers submit jobs; one writer takes everything queued (up to
 * MAX_BATCH_COMMANDS) and commits it in one transaction. Each caller's promise settles only after
 * its batch's COMMIT returned (the `flush` callback settles them), so an acknowledgement means
 * durable. The next batch is scheduled with setImmediate, after the settled callers' promise
 * continuations ran, so callers that immediately submit again join the next batch.
 */
export interface Pending<J, R> {
  readonly job: J;
  resolve(value: R): void;
  reject(error: unknown): void;
}

/**
 * 2,048 commands per transaction: large enough to amortise the fsync (~0.4 ms here) over many
 * postings, small enough that one batch holds the write lock for only a few tens of ms, which
 * bounds everyone's acknowledgement latency.
 */
export const MAX_BATCH_COMMANDS = 2_048;
/**
 * 100,000 queued commands (~50 batches): beyond that the node is overloaded and callers get
 * LEDGER_OVERLOADED at once instead of unbounded memory and latency.
 */
export const MAX_PENDING_COMMANDS = 100_000;

export class GroupCommit<J, R> {
  private queue: Pending<J, R>[] = [];
  private scheduled = false;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Number of batches flushed and jobs in them (for tests and metrics). */
  batches = 0;
  jobs = 0;

  constructor(
    private readonly flush: (batch: readonly Pending<J, R>[]) => Promise<void> | void,
    private readonly maxBatch = MAX_BATCH_COMMANDS,
    private readonly maxPending = MAX_PENDING_COMMANDS,
  ) {}

  submit(job: J): Promise<R> {
    if (this.closed) {
      return Promise.reject(
        ledgerError("LEDGER_CLOSED", "The ledger is closed.", {
          hint: "Open it again with openLedger().",
        }),
      );
    }
    if (this.queue.length >= this.maxPending) {
      return Promise.reject(
        ledgerError(
          "LEDGER_OVERLOADED",
          `${this.queue.length} operations are already waiting to commit.`,
          {
            hint: "Back off and retry with the same idempotency key; nothing was changed.",
            details: { pending: this.queue.length, limit: this.maxPending },
          },
        ),
      );
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.schedule();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Stops accepting jobs and waits until everything queued has been flushed. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    const batch =
      this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    this.batches += 1;
    this.jobs += batch.length;
    try {
      await this.flush(batch);
    } catch (error) {
      // flush settles its callers itself; this catches only a failure of flush as a whole.
      for (const pending of batch) pending.reject(error);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
      else for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}
