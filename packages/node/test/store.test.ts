import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { newJobRow, newTaskRow } from "../src/jobs/rows.ts";
import { ORACLE_RETENTION_MS, RATE_RETENTION_MS } from "../src/limits.ts";
import * as devices from "../src/store/devices.ts";
import * as jobs from "../src/store/jobs.ts";
import { NODE_MIGRATION_TABLE } from "../src/store/migrations.ts";
import { type NodeStore, type NodeStoreOptions, openNodeStore } from "../src/store/open.ts";
import * as records from "../src/store/records.ts";
import * as tasks from "../src/store/tasks.ts";
import { transitionJob, transitionTask } from "../src/store/transitions.ts";
import { PG_URL } from "./stores.ts";

/**
 * One behavioural suite for the node's store on SQLite and, with DPN_TEST_PG_URL, PostgreSQL:
 * migrations, guarded transitions, the job and device records, aggregates and retention.
 */

const opened: NodeStore[] = [];
const schemas: string[] = [];
let counter = 0;

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  if (PG_URL !== undefined && schemas.length > 0) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const schema of schemas.splice(0))
      await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
});

interface Backend {
  readonly name: string;
  options(): NodeStoreOptions;
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite",
    options: () => ({
      kind: "sqlite",
      path: join(mkdtempSync(join(tmpdir(), "dpn-store-")), "node.db"),
    }),
  },
  ...(PG_URL === undefined
    ? []
    : [
        {
          name: "postgres",
          options: (): NodeStoreOptions => {
            counter += 1;
            const schema = `dpn_store_${process.pid}_${counter}`;
            schemas.push(schema);
            return { kind: "postgres", connectionString: PG_URL as string, schema };
          },
        },
      ]),
];

async function open(options: NodeStoreOptions): Promise<NodeStore> {
  const store = await openNodeStore(options);
  opened.push(store);
  return store;
}

const economics = { rate: { cuPerDpn: 100 } } as never;

async function aJob(store: NodeStore, id: string, tasksOf = 2) {
  const job = newJobRow({
    jobId: id,
    requester: "dpn_requester",
    submit: {
      spec: { type: "hash", items: [{ seed: "00".repeat(32), iterations: 1 }] },
      budget: "1",
      deadlineMs: 10_000,
      clientRef: `ref-${id}`,
    },
    nowMs: 1_000,
    totalCu: 2,
    quote: 1n,
    economics,
    fragments: tasksOf,
    seed: "seed",
    kindData: undefined,
  });
  const rows = Array.from({ length: tasksOf }, (_, idx) =>
    newTaskRow(id, { idx, replica: 0, items: [idx, idx + 1], cu: 1, state: "pending" }, 5n),
  );
  await store.transaction((trx) => jobs.insertJob(trx, job, rows));
  return { job, rows };
}

for (const backend of BACKENDS) {
  describe(`node store (${backend.name})`, () => {
    it("applies its migrations once and records them", async () => {
      const options = backend.options();
      const store = await open(options);
      const applied = await store.db
        .selectFrom(NODE_MIGRATION_TABLE as never)
        .select("name" as never)
        .execute();
      expect((applied as Array<{ name: string }>).map((r) => r.name)).toEqual([
        "0001_node",
        "0002_kernel",
        "0003_quarantine",
        "0004_private_reads",
        "0005_measured_class",
        "0006_job_submissions",
        "0007_supply",
        "0008_clearing",
      ]);
      await store.close();
      opened.splice(opened.indexOf(store), 1);
      const again = await open(options);
      expect(await jobs.recentJobs(again.db, 10)).toEqual([]);
    });

    it("changes a task's state only from the state it is in, and only for the lease that holds it", async () => {
      const store = await open(backend.options());
      await aJob(store, "job_a");
      const lease = {
        device_id: "dev_1",
        attempt: 1,
        lease_expires_ms: 2_000,
        lease_started_ms: 1_000,
      };
      // Two schedulers race to lease one task: exactly one wins.
      const [first, second] = await Promise.all([
        transitionTask(store.db, "job_a.0", "pending", "leased", lease),
        transitionTask(store.db, "job_a.0", "pending", "leased", { ...lease, device_id: "dev_2" }),
      ]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      const leased = await tasks.task(store.db, "job_a.0");
      // A result from another device, or from an earlier lease of the same one, is a lost race.
      expect(
        await transitionTask(
          store.db,
          "job_a.0",
          "leased",
          "verifying",
          {},
          { deviceId: "dev_9", attempt: 1 },
        ),
      ).toBe(false);
      expect(
        await transitionTask(
          store.db,
          "job_a.0",
          "leased",
          "verifying",
          {},
          { deviceId: leased?.device_id as string, attempt: 0 },
        ),
      ).toBe(false);
      expect(
        await transitionTask(
          store.db,
          "job_a.0",
          "leased",
          "verifying",
          {},
          { deviceId: leased?.device_id as string, attempt: 1 },
        ),
      ).toBe(true);
      // Under verification it is neither cancelled nor re-leased.
      expect(await transitionTask(store.db, "job_a.0", "leased", "cancelled")).toBe(false);
      await expect(transitionTask(store.db, "job_a.0", "verifying", "cancelled")).rejects.toThrow(
        /not allowed/,
      );
      expect((await tasks.task(store.db, "job_a.0"))?.state).toBe("verifying");
    });

    it("ends a job once, from the states it may leave", async () => {
      const store = await open(backend.options());
      await aJob(store, "job_b");
      expect(await transitionJob(store.db, "job_b", ["funding"], "open")).toBe(true);
      const [a, b] = await Promise.all([
        transitionJob(store.db, "job_b", ["open"], "done", { finished_ms: 5 }),
        transitionJob(store.db, "job_b", ["open"], "cancelled", { finished_ms: 5 }),
      ]);
      expect([a, b].filter(Boolean)).toHaveLength(1);
      await expect(transitionJob(store.db, "job_b", ["done"], "open")).rejects.toThrow(
        /not allowed/,
      );
    });

    it("keeps one job per requester and clientRef, and deletes a job that was never acknowledged", async () => {
      const store = await open(backend.options());
      const { job } = await aJob(store, "job_c");
      expect((await jobs.jobByClientRef(store.db, job.requester, job.client_ref))?.id).toBe(
        "job_c",
      );
      await expect(aJobWithRef(store, "job_c2", job.client_ref)).rejects.toThrow();
      await store.transaction((trx) => jobs.deleteJob(trx, "job_c"));
      expect(await jobs.job(store.db, "job_c")).toBeUndefined();
      expect(await tasks.tasksOf(store.db, "job_c")).toEqual([]);
    });

    it("keeps a device's record across re-registration and counts its outcomes", async () => {
      const store = await open(backend.options());
      const device = {
        id: "dev_1",
        owner: "dpn_owner",
        device_class: "server",
        declared_class: "server",
        layer: "heavy",
        long_tail: 0,
        geohash: "u33d",
        fingerprint: "f".repeat(64),
        cu_per_sec: 2,
        reputation: 0.5,
        run_start_ms: 1,
        last_active_ms: 1,
        registered_ms: 1,
        ed25519: new Uint8Array(32).fill(1),
        mldsa44: new Uint8Array(1312).fill(2),
        class_reason: "server measured 2 CU/s over 1 lane: heavy layer (a server is heavy)",
        rig_reason: null,
        lanes: 1,
        memory_mib: 64,
      };
      await devices.upsertDevice(store.db, device);
      await store.transaction((trx) =>
        devices.recordOutcome(trx, {
          deviceId: "dev_1",
          accepted: true,
          reputation: 0.6,
          rewardUnits: 7n,
          cu: 1.5,
          nowMs: 10,
          runStartMs: 1,
        }),
      );
      await devices.upsertDevice(store.db, { ...device, cu_per_sec: 3, geohash: "xn76" });
      const row = await devices.device(store.db, "dev_1");
      expect(row).toMatchObject({
        accepted: 1,
        earned: "7",
        reputation: 0.6,
        cu_per_sec: 3,
        geohash: "xn76",
      });
      expect(Buffer.from(row?.mldsa44 ?? []).length).toBe(1312);
    });

    it("aggregates open CU and demand, records assignments in order and prunes history", async () => {
      const store = await open(backend.options());
      await aJob(store, "job_d", 3);
      expect(await tasks.openCu(store.db)).toBe(3);
      expect(await jobs.demandCu(store.db, 0)).toBe(2);
      expect(await jobs.demandCu(store.db, 2_000)).toBe(0);
      for (let i = 0; i < 3; i++) {
        await records.recordAssignment(store.db, "job_d", {
          atMs: i,
          tasks: [`t${i}`],
          input: { i },
          picks: ["d"],
        });
      }
      expect((await records.assignments(store.db, "job_d")).map((a) => a.tasks[0])).toEqual([
        "t0",
        "t1",
        "t2",
      ]);
      const nowMs = 100 * 86_400_000;
      await records.recordRate(store.db, nowMs - RATE_RETENTION_MS - 1, "{}");
      await records.recordRate(store.db, nowMs, "{}");
      await records.recordOracleRound(store.db, {
        oracle: "o",
        atMs: nowMs - ORACLE_RETENTION_MS - 1,
        value: 1,
        median: 1,
        status: "median",
      });
      await records.recordOracleRound(store.db, {
        oracle: "o",
        atMs: nowMs,
        value: 2,
        median: 2,
        status: "median",
      });
      await records.recordOracleRound(store.db, {
        oracle: "o",
        atMs: nowMs + 1,
        value: 2,
        median: null,
        status: "failed",
      });
      await records.pruneHistory(store.db, nowMs);
      expect((await records.rates(store.db, 10)).map((r) => r.at_ms)).toEqual([nowMs]);
      // A failed round keeps the value but did not publish it: the last publication is nowMs's.
      expect(await records.lastPublished(store.db, "o")).toEqual({ value: 2, atMs: nowMs });
      expect(await records.oracleRounds(store.db, "o", 10)).toHaveLength(2);
    });

    if (backend.name === "sqlite") {
      it("adopts a database a node made before migrations existed", async () => {
        const options = backend.options() as { kind: "sqlite"; path: string };
        const legacy = new Database(options.path);
        legacy.exec(`
          CREATE TABLE jobs (id TEXT PRIMARY KEY, requester TEXT NOT NULL, client_ref TEXT NOT NULL, type TEXT NOT NULL,
            spec_json TEXT NOT NULL, budget TEXT NOT NULL, deadline_ms INTEGER NOT NULL, state TEXT NOT NULL,
            created_ms INTEGER NOT NULL, cu REAL NOT NULL, quote TEXT NOT NULL, cu_per_dpn REAL NOT NULL,
            fragments INTEGER NOT NULL, seed TEXT NOT NULL, assignment_json TEXT NOT NULL, finished_ms INTEGER,
            UNIQUE (requester, client_ref));
          CREATE TABLE tasks (id TEXT PRIMARY KEY, job_id TEXT NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL,
            item_from INTEGER NOT NULL, item_to INTEGER NOT NULL, cu REAL NOT NULL, state TEXT NOT NULL,
            device_id TEXT, attempt INTEGER NOT NULL DEFAULT 0, lease_expires_ms INTEGER, hold_id TEXT NOT NULL,
            hold_amount TEXT NOT NULL, output_json TEXT, price TEXT, reward TEXT,
            excluded_json TEXT NOT NULL DEFAULT '[]', done_ms INTEGER);
          INSERT INTO jobs VALUES ('job_old', 'r', 'c', 'hash', '{}', '1', 9, 'done', 1, 1, '1', 1, 1, 's', '[]', 2);
          INSERT INTO tasks (id, job_id, idx, item_from, item_to, cu, state, hold_id, hold_amount)
            VALUES ('job_old.0', 'job_old', 0, 0, 1, 1, 'done', 'hold:job_old.0', '1');`);
        legacy.close();
        const store = await open(options);
        expect((await jobs.job(store.db, "job_old"))?.state).toBe("done");
        expect(await tasks.task(store.db, "job_old.0")).toMatchObject({
          replica: 0,
          failure: null,
          kind_data: null,
        });
      });
    }
  });
}

async function aJobWithRef(store: NodeStore, id: string, clientRef: string) {
  const { job } = await aJob(store, `${id}_tmp`);
  await store.transaction((trx) => jobs.insertJob(trx, { ...job, id, client_ref: clientRef }, []));
}
