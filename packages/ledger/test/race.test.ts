import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { SYSTEM_ACCOUNTS } from "../src/accounts.ts";
import { openLedger } from "../src/ledger.ts";
import { postgresStore } from "../src/stores/postgres.ts";
import { dropSchema, PG_URL, pgSchemaName } from "./stores.ts";

/**
 * Two ledger processes on one PostgreSQL race on the same accounts. Each account holds exactly
 * 100 units; each process tries to burn 10 from it 15 times (300 asked for, 100 available).
 * However the row locks interleave, no more than the balance may ever leave an account.
 */
const here = fileURLToPath(new URL(".", import.meta.url));
const ACCOUNTS = 4;
const FUND = 100n;

interface WorkerResult {
  burns: string[];
  mints: string[];
  shared: number[];
  failures: Record<string, number>;
}

interface Worker {
  readonly ready: Promise<void>;
  readonly result: Promise<WorkerResult>;
  go(): void;
}

function worker(schema: string, id: number): Worker {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(here, "raceWorker.ts"), PG_URL ?? "", schema, String(id)],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  let markReady = (): void => undefined;
  let failReady = (_error: Error): void => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    if (out.includes("ready\n")) markReady();
  });
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.on("exit", (code) => {
      // A worker that dies before it is ready fails the test at once instead of leaving it waiting.
      failReady(new Error(`worker ${id} exited ${code} before it was ready: ${err}`));
      const line = out.split("\n").find((l) => l.startsWith("result "));
      if (code === 0 && line !== undefined)
        resolve(JSON.parse(line.slice("result ".length)) as WorkerResult);
      else reject(new Error(`worker ${id} exited ${code}: ${err}`));
    });
  });
  return { ready, result, go: () => child.stdin.end("go\n") };
}

describe.skipIf(PG_URL === undefined)(
  "two processes racing on PostgreSQL (set DPN_TEST_PG_URL to run)",
  () => {
    const schema = pgSchemaName("race");
    afterAll(() => dropSchema(schema));

    it("never double-spends, pays each receipt once and keeps one posting per shared key", {
      // Two processes start through tsx and migrate: on a loaded 2-core CI machine that alone can
      // take tens of seconds.
      timeout: 150_000,
    }, async () => {
      await dropSchema(schema);
      const setup = await openLedger({
        store: postgresStore({ connectionString: PG_URL ?? "", schema }),
      });
      await setup.genesis({ idempotencyKey: "genesis" });
      for (let a = 0; a < ACCOUNTS; a++) {
        await setup.openAccount(`owner:r${a}`);
        await setup.transfer({
          idempotencyKey: `fund-${a}`,
          from: SYSTEM_ACCOUNTS.contributors,
          to: `owner:r${a}`,
          amount: FUND,
        });
      }
      await setup.close();

      const workers = [worker(schema, 1), worker(schema, 2)];
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.go();
      const [one, two] = await Promise.all(workers.map((w) => w.result));
      if (one === undefined || two === undefined) throw new Error("missing worker result");

      const ledger = await openLedger({
        store: postgresStore({ connectionString: PG_URL ?? "", schema }),
      });
      try {
        const report = await ledger.verify();
        expect(report.checks.filter((c) => !c.ok)).toEqual([]);
        // Every burn either process was told succeeded is in the ledger, and together they never
        // exceed what existed: 4 accounts x 100 units plus what transfers and mints moved in.
        const burned = await ledger.balance(SYSTEM_ACCOUNTS.burn);
        expect(burned).toBe(BigInt(one.burns.length + two.burns.length) * 10n);
        for (const key of [...one.burns, ...two.burns])
          expect(await ledger.postingByKey(key)).toBeDefined();
        let left = 0n;
        for (let a = 0; a < ACCOUNTS; a++) {
          const balance = await ledger.balance(`owner:r${a}`);
          expect(balance >= 0n).toBe(true);
          left += balance;
        }
        const minted = BigInt(one.mints.length + two.mints.length);
        const sharedIn = BigInt(new Set([...one.shared, ...two.shared]).size);
        expect(left + burned).toBe(BigInt(ACCOUNTS) * FUND + minted + sharedIn);
        // Each receipt paid once: 15 receipts, both processes tried each.
        expect(new Set([...one.mints, ...two.mints]).size).toBe(15);
        expect(one.mints.length + two.mints.length).toBe(15);
        // Shared keys: both processes got the same seq for the same key.
        expect(one.shared).toHaveLength(15);
        expect(two.shared).toHaveLength(15);
        expect(new Set(one.shared)).toEqual(new Set(two.shared));
        console.log(
          `race: process 1 burned ${one.burns.length}x, process 2 ${two.burns.length}x; ${burned} units burned, none overdrawn`,
        );
        // The race really happened: both won some burns, and some burns were refused.
        expect(one.burns.length).toBeGreaterThan(0);
        expect(two.burns.length).toBeGreaterThan(0);
        expect(
          (one.failures.LEDGER_INSUFFICIENT_FUNDS ?? 0) +
            (two.failures.LEDGER_INSUFFICIENT_FUNDS ?? 0),
        ).toBeGreaterThan(0);
        expect(
          Object.keys({ ...one.failures, ...two.failures }).filter(
            (code) =>
              !code.startsWith("LEDGER_INSUFFICIENT_FUNDS") &&
              code !== "LEDGER_RECEIPT_ALREADY_MINTED",
          ),
        ).toEqual([]);
      } finally {
        await ledger.close();
      }
    });
  },
);
