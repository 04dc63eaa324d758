import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLedger, SYSTEM_ACCOUNTS, sqliteStore } from "@dpn/ledger";
import { assignmentSeed, GENESIS_EPOCH_ROOT } from "@dpn/protocol";
import { envelopeDigest, newIdentity, seal } from "@dpn/wire";
import { type Benchmark, type BenchRow, median, repeat } from "./harness.ts";

/**
 * What do assignment seeds cost the node (docs/adr/0018-assignment-seed.md)? Two figures:
 *
 * - sealing one ledger epoch (ledger.snapshot: every balance under a Merkle root, on the
 *   embedded SQLite), against the number of accounts: once per LEDGER_EPOCH_MS, and new
 *   submissions wait for it (the sealer reads and seals one at a time);
 * - deriving one job's seed at submission: the digest of a signed job.submit of 64 hash items
 *   and the seed's SHA-256.
 */
const bench: Benchmark = async ({ quick }) => {
  const rows: BenchRow[] = [];
  for (const accounts of quick ? [1_000] : [1_000, 10_000, 50_000]) {
    const dir = mkdtempSync(join(tmpdir(), "dpn-bench-epochs-"));
    const ledger = await openLedger({
      store: sqliteStore({ path: join(dir, "ledger.db") }),
      verifyOnOpen: false,
    });
    try {
      await ledger.genesis({ idempotencyKey: "genesis", nowMs: 1 });
      const ids = Array.from({ length: accounts }, (_, i) => `owner:bench-${i}`);
      await Promise.all(ids.map((id) => ledger.openAccount(id, { nowMs: 1 })));
      await Promise.all(
        ids.map((id) =>
          ledger.transfer({
            idempotencyKey: `fund-${id}`,
            from: SYSTEM_ACCOUNTS.contributors,
            to: id,
            amount: 10n ** 18n,
            nowMs: 1,
          }),
        ),
      );
      const times = await repeat(quick ? 1 : 3, async (run) => {
        const start = performance.now();
        await ledger.snapshot({ epoch: run + 1, nowMs: 2 + run });
        return performance.now() - start;
      });
      rows.push({ measure: "seal one epoch", accounts, medianMs: median(times) });
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const requester = newIdentity();
  const body = {
    spec: {
      type: "hash",
      items: Array.from({ length: 64 }, (_, i) => ({
        seed: i.toString(16).padStart(64, "0"),
        iterations: 100_000,
      })),
    },
    budget: "10",
    deadlineMs: 2_000_000_000_000,
    clientRef: "bench",
  };
  const envelope = seal(requester, "job.submit", body, { nowMs: 1_000 });
  const calls = quick ? 1_000 : 20_000;
  const times = await repeat(3, () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) {
      assignmentSeed({ submissionDigest: envelopeDigest(envelope), epochRoot: GENESIS_EPOCH_ROOT });
    }
    return ((performance.now() - start) / calls) * 1000;
  });
  rows.push({
    measure: `seed of one submission (${envelope.payload.length} B payload)`,
    accounts: 0,
    medianMs: median(times) / 1000,
  });
  return {
    name: "epochs",
    question: "What does sealing a ledger epoch and deriving a job's assignment seed cost?",
    rows,
  };
};

export default bench;
