import pg from "pg";
import type { StoreChoice } from "../src/server.ts";

/**
 * The stores the node's end-to-end suites run on: the embedded SQLite always, PostgreSQL when
 * DPN_TEST_PG_URL is set (as CI sets it). Each PostgreSQL test gets schemas of its own, dropped
 * after it (cleanupStores).
 */
export const PG_URL = process.env.DPN_TEST_PG_URL;

export interface TestStore {
  readonly name: "sqlite" | "postgres";
  /** A fresh store (for PostgreSQL, new schemas). */
  choice(): StoreChoice;
  /** The store of the last choice() again (a restart on the same database). */
  reuse(): StoreChoice;
}

let counter = 0;
const created: string[] = [];

function postgres(url: string): TestStore {
  let last: StoreChoice | undefined;
  return {
    name: "postgres",
    choice() {
      counter += 1;
      const schemaPrefix = `dpn_t${process.pid}_${counter}`;
      created.push(schemaPrefix);
      last = { kind: "postgres", connectionString: url, schemaPrefix };
      return last;
    },
    reuse() {
      if (last === undefined) throw new Error("reuse() before choice()");
      return last;
    },
  };
}

export const STORES: readonly TestStore[] = [
  { name: "sqlite", choice: () => ({ kind: "sqlite" }), reuse: () => ({ kind: "sqlite" }) },
  ...(PG_URL === undefined ? [] : [postgres(PG_URL)]),
];

/** Drops the PostgreSQL schemas the tests made. */
export async function cleanupStores(): Promise<void> {
  if (PG_URL === undefined || created.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const prefix of created.splice(0)) {
      await client.query(`drop schema if exists "${prefix}_ledger" cascade`);
      await client.query(`drop schema if exists "${prefix}_node" cascade`);
    }
  } finally {
    await client.end();
  }
}
