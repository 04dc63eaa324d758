/**
 * Child process of crash.test.ts: writes postings under load to a SQLite ledger and prints
 * `ack <idempotencyKey> <seq>` for each one only after its promise resolved (= durable). Stdout
 * to a pipe is synchronous on Linux, so every line printed before SIGKILL reaches the parent.
 *
 *   node --import tsx crashWriter.ts <db path> <seed>
 */
import { seededRng } from "@dpn/protocol";
import { openLedger } from "../src/ledger.ts";
import { sqliteStore } from "../src/stores/sqlite.ts";

const [path, seed] = process.argv.slice(2);
if (path === undefined || seed === undefined)
  throw new Error("usage: crashWriter.ts <db path> <seed>");
const ACCOUNTS = Array.from({ length: 8 }, (_, i) => `owner:w${i}`);
const WORKERS = 16;

const rng = seededRng(`crash-writer-${seed}`);
const ledger = await openLedger({ store: sqliteStore({ path }) });
await ledger.genesis({ idempotencyKey: "genesis" }).catch(() => undefined);
for (const account of ACCOUNTS) {
  await ledger.openAccount(account);
  await ledger.transfer({
    idempotencyKey: `fund-${account}`,
    from: "system:contributors",
    to: account,
    amount: 10n ** 24n,
  });
}
process.stdout.write("ready\n");

let n = 0;
async function worker(id: number): Promise<void> {
  for (;;) {
    const key = `s${seed}-w${id}-${n++}`;
    const pick = rng.nextInt(10);
    const from = ACCOUNTS[rng.nextInt(ACCOUNTS.length)] as string;
    const to = ACCOUNTS[rng.nextInt(ACCOUNTS.length)] as string;
    const amount = BigInt(1 + rng.nextInt(1_000));
    let posting: { seq: number };
    try {
      if (pick < 6 && from !== to)
        posting = await ledger.transfer({ idempotencyKey: key, from, to, amount, fee: 1n });
      else if (pick < 8)
        posting = await ledger.mint({ idempotencyKey: key, to, amount, receiptId: key });
      else if (pick < 9) posting = await ledger.burn({ idempotencyKey: key, from, amount });
      else {
        await ledger.placeHold({
          idempotencyKey: key,
          holdId: key,
          from,
          amount,
          expiresAtMs: Date.now() + 60_000,
        });
        const capture = await ledger.capturePayment({
          idempotencyKey: `${key}-pay`,
          holdId: key,
          amount: amount / 2n + 1n,
          burnBps: 5_000n,
        });
        posting = capture.posting;
        process.stdout.write(`ack ${key} -\n`);
        process.stdout.write(`ack ${key}-pay ${posting.seq}\n`);
        continue;
      }
    } catch (error) {
      process.stdout.write(`fail ${key} ${(error as { code?: string }).code ?? String(error)}\n`);
      continue;
    }
    process.stdout.write(`ack ${key} ${posting.seq}\n`);
  }
}
await Promise.all(Array.from({ length: WORKERS }, (_, id) => worker(id)));
