import type { Ledger } from "@dpn/ledger";
import { GENESIS_EPOCH, GENESIS_EPOCH_ROOT } from "@dpn/protocol";

/**
 * Sealed ledger epochs (docs/protocol.md §Sealed epochs): once per interval the node commits
 * every balance under a Merkle root (ledger.snapshot), numbered from 1. A new job's assignment
 * seed draws from the last one sealed (§Assignment seed).
 *
 * Reading the last epoch and sealing the next run one at a time, so "the last epoch sealed when
 * the job was accepted" is exact: a job that read epoch n was accepted before epoch n + 1 was
 * stamped, which is what an auditor checks (n + 1 sealed at or after the job's acceptance).
 */
export interface SealedEpoch {
  readonly epoch: number;
  readonly root: string;
  /** null for the genesis root, which no seal made. */
  readonly sealedAtMs: number | null;
}

export const GENESIS_SEALED_EPOCH: SealedEpoch = {
  epoch: GENESIS_EPOCH,
  root: GENESIS_EPOCH_ROOT,
  sealedAtMs: null,
};

export class EpochSealer {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ledger: Ledger,
    private readonly now: () => number,
    /** LEDGER_EPOCH_MS unless a test passes less. */
    readonly intervalMs: number,
  ) {}

  /** The last sealed epoch, or the genesis root while none is. */
  latest(): Promise<SealedEpoch> {
    return this.exclusive(() => this.read());
  }

  /** Seals the next epoch now. */
  seal(): Promise<SealedEpoch> {
    return this.exclusive(async () => this.sealAfter(await this.read()));
  }

  /** Seals the next epoch if the interval has passed since the last one (or none is sealed). */
  sealIfDue(): Promise<SealedEpoch | undefined> {
    return this.exclusive(async () => {
      const last = await this.read();
      const due = last.sealedAtMs === null || this.now() - last.sealedAtMs >= this.intervalMs;
      return due ? this.sealAfter(last) : undefined;
    });
  }

  private async read(): Promise<SealedEpoch> {
    const snapshot = await this.ledger.latestSnapshot();
    return snapshot === undefined
      ? GENESIS_SEALED_EPOCH
      : { epoch: snapshot.epoch, root: snapshot.root, sealedAtMs: snapshot.atMs };
  }

  private async sealAfter(last: SealedEpoch): Promise<SealedEpoch> {
    const sealed = await this.ledger.snapshot({ epoch: last.epoch + 1, nowMs: this.now() });
    return { epoch: sealed.epoch, root: sealed.root, sealedAtMs: sealed.atMs };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
