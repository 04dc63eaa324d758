import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDpnError } from "@dpn/protocol";
import Database from "better-sqlite3";
import { sql } from "kysely";
import pg from "pg";
import { afterEach, describe, expect } from "vitest";
import type { AuditReport } from "../src/audit.ts";
import { type Ledger, type LedgerOptions, openLedger } from "../src/ledger.ts";
import { postgresStore } from "../src/stores/postgres.ts";
import { sqliteStore } from "../src/stores/sqlite.ts";
import type { LedgerStore } from "../src/stores/store.ts";

/**
 * The shared behavioural suite runs every `describeStores` block once per store: SQLite always,
 * PostgreSQL when DPN_TEST_PG_URL is set. Each `open()` gets a fresh database (a temp file, or
 * a fresh PostgreSQL schema named after the process id, dropped after the test).
 */
export const PG_URL = process.env.DPN_TEST_PG_URL;

export interface StoreContext {
  readonly name: "sqlite" | "postgres";
  /** A fresh, empty ledger. */
  open(options?: Omit<LedgerOptions, "store">): Promise<Ledger>;
  /** Runs raw SQL against the ledger's database behind its back (audit tests). */
  tamper(ledger: Ledger, statement: string): Promise<void>;
  /** Closes `ledger` and opens its database again (restart). */
  reopen(ledger: Ledger, options?: Omit<LedgerOptions, "store">): Promise<Ledger>;
}

let counter = 0;

function sqliteContext(): StoreContext {
  const cleanups: (() => Promise<void>)[] = [];
  const paths = new Map<Ledger, string>();
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const openAt = async (
    path: string,
    options: Omit<LedgerOptions, "store"> = {},
  ): Promise<Ledger> => {
    const ledger = await openLedger({ ...options, store: sqliteStore({ path }) });
    paths.set(ledger, path);
    cleanups.push(() => ledger.close().catch(() => undefined));
    return ledger;
  };
  return {
    name: "sqlite",
    async open(options) {
      const dir = mkdtempSync(join(tmpdir(), "dpn-ledger-test-"));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      return openAt(join(dir, "ledger.db"), options);
    },
    async tamper(ledger, statement) {
      const path = paths.get(ledger);
      if (path === undefined) throw new Error("tamper: unknown ledger");
      const db = new Database(path);
      try {
        db.exec(statement);
      } finally {
        db.close();
      }
    },
    async reopen(ledger, options) {
      await ledger.close();
      const path = paths.get(ledger);
      if (path === undefined) throw new Error("reopen: unknown ledger");
      return openAt(path, options);
    },
  };
}

export function pgSchemaName(tag: string): string {
  counter += 1;
  return `dpn_test_${tag}_${process.pid}_${counter}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

function pgContext(): StoreContext {
  const cleanups: (() => Promise<void>)[] = [];
  const schemas = new Map<Ledger, string>();
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const openAt = async (
    schema: string,
    options: Omit<LedgerOptions, "store"> = {},
  ): Promise<Ledger> => {
    const ledger = await openLedger({
      ...options,
      store: postgresStore({ connectionString: PG_URL ?? "", schema, poolSize: 2 }),
    });
    schemas.set(ledger, schema);
    cleanups.push(() => ledger.close().catch(() => undefined));
    return ledger;
  };
  return {
    name: "postgres",
    async open(options) {
      const schema = pgSchemaName("s");
      await dropSchema(schema);
      cleanups.push(() => dropSchema(schema));
      return openAt(schema, options);
    },
    async tamper(ledger, statement) {
      await sql.raw(statement).execute(ledger.store.reader());
    },
    async reopen(ledger, options) {
      await ledger.close();
      const schema = schemas.get(ledger);
      if (schema === undefined) throw new Error("reopen: unknown ledger");
      return openAt(schema, options);
    },
  };
}

export function describeStores(title: string, body: (ctx: StoreContext) => void): void {
  describe(`${title} [sqlite]`, () => body(sqliteContext()));
  describe.skipIf(PG_URL === undefined)(`${title} [postgres] (set DPN_TEST_PG_URL to run)`, () =>
    body(pgContext()),
  );
}

/** Everything observable about a ledger's state, to prove a rejected operation changed nothing. */
export async function fingerprint(ledger: Ledger): Promise<unknown> {
  return ledger.store.readConsistent(async (db) => ({
    accounts: await db.selectFrom("accounts").selectAll().orderBy("id").execute(),
    postings: await db
      .selectFrom("postings")
      .select(["seq", "idempotency_key"])
      .orderBy("seq")
      .execute(),
    entries: await db
      .selectFrom("entries")
      .select((eb) => eb.fn.countAll().as("n"))
      .execute(),
    holds: await db.selectFrom("holds").selectAll().orderBy("id").execute(),
    stakes: await db.selectFrom("stakes").selectAll().orderBy("account_id").execute(),
    unbondings: await db.selectFrom("unbondings").selectAll().orderBy("id").execute(),
    meta: await db.selectFrom("meta").selectAll().orderBy("key").execute(),
  }));
}

/** Asserts that `operation` rejects with `code` and leaves every table exactly as it was. */
export async function expectRejectedUnchanged(
  ledger: Ledger,
  code: string,
  operation: () => Promise<unknown>,
): Promise<void> {
  const before = await fingerprint(ledger);
  let caught: unknown;
  try {
    await operation();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeDefined();
  if (!isDpnError(caught)) throw caught;
  expect({ code: caught.code, message: caught.message }).toMatchObject({ code });
  expect(caught.hint, "every ledger error carries a hint").toBeTruthy();
  expect(await fingerprint(ledger)).toEqual(before);
}

export const DPN = 10n ** 18n;

/** Genesis, two owners and a device, each owner funded with 1,000 DPN from contributors. */
export async function seeded(
  ctx: StoreContext,
  options?: Omit<LedgerOptions, "store">,
): Promise<Ledger> {
  const ledger = await ctx.open(options);
  await ledger.genesis({ idempotencyKey: "genesis", nowMs: 1 });
  await ledger.openAccount("owner:alice", { nowMs: 1 });
  await ledger.openAccount("owner:bob", { nowMs: 1 });
  await ledger.openAccount("device:d1", { nowMs: 1 });
  await ledger.transfer({
    idempotencyKey: "fund-alice",
    from: "system:contributors",
    to: "owner:alice",
    amount: 1_000n * DPN,
    nowMs: 1,
  });
  await ledger.transfer({
    idempotencyKey: "fund-bob",
    from: "system:contributors",
    to: "owner:bob",
    amount: 1_000n * DPN,
    nowMs: 1,
  });
  return ledger;
}

export async function expectAudited(ledger: Ledger): Promise<AuditReport> {
  const report = await ledger.verify();
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.ok).toBe(true);
  return report;
}

export function makeTempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type { LedgerStore };
