/**
 * Child process of race.test.ts: one ledger process racing another on the same PostgreSQL
 * accounts. It tries to burn far more than the accounts hold, mints against receipts the other
 * process also mints against, and reuses idempotency keys the other process uses too. Prints one
 * JSON line with what it was told succeeded.
 *
 *   node --import tsx raceWorker.ts <url> <schema> <worker id>
 *
 * It prints "ready" once connected and starts when the parent writes "go" to its stdin.
 */
import { openLedger } from "../src/ledger.ts";
import { postgresStore } from "../src/stores/postgres.ts";

const [url, schema, id] = process.argv.slice(2);
if (url === undefined || schema === undefined || id === undefined)
  throw new Error("usage: raceWorker.ts <url> <schema> <id>");
export const RACE_ACCOUNTS = 4;
export const BURN = 10n;
export const ATTEMPTS_PER_ACCOUNT = 15;

const ledger = await openLedger({
  store: postgresStore({ connectionString: url, schema }),
  verifyOnOpen: false,
});
const burns: string[] = [];
const mints: string[] = [];
const shared: number[] = [];
const failures: Record<string, number> = {};
const fail = (error: unknown): void => {
  const code = (error as { code?: string }).code ?? String(error);
  failures[code] = (failures[code] ?? 0) + 1;
};
// Both processes start their rounds at the same moment, so their batches interleave.
process.stdout.write("ready\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
process.stdin.pause();
for (let attempt = 0; attempt < ATTEMPTS_PER_ACCOUNT; attempt++) {
  const jobs: Promise<void>[] = [];
  for (let a = 0; a < RACE_ACCOUNTS; a++) {
    const key = `w${id}-burn-${a}-${attempt}`;
    jobs.push(
      ledger
        .burn({ idempotencyKey: key, from: `owner:r${a}`, amount: BURN })
        .then(() => void burns.push(key), fail),
    );
    // Also move money around between the raced accounts (never creates or destroys any).
    const to = `owner:r${(a + 1) % RACE_ACCOUNTS}`;
    jobs.push(
      ledger
        .transfer({
          idempotencyKey: `w${id}-t-${a}-${attempt}`,
          from: `owner:r${a}`,
          to,
          amount: 3n,
        })
        .then(() => undefined, fail),
    );
  }
  const receipt = `receipt-${attempt}`;
  jobs.push(
    ledger
      .mint({
        idempotencyKey: `w${id}-mint-${attempt}`,
        to: "owner:r0",
        amount: 1n,
        receiptId: receipt,
      })
      .then(() => void mints.push(receipt), fail),
  );
  // The same key and content from both processes: exactly one posting, both told the same seq.
  jobs.push(
    ledger
      .transfer({
        idempotencyKey: `shared-${attempt}`,
        from: "system:contributors",
        to: "owner:r1",
        amount: 1n,
      })
      .then((p) => void shared.push(p.seq), fail),
  );
  await Promise.all(jobs);
}
await ledger.close();
process.stdout.write(`result ${JSON.stringify({ burns, mints, shared, failures })}\n`);
