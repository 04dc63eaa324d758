import pg from "pg";
import { afterAll } from "vitest";
import type { StoreChoice } from "../src/server.ts";

/**
 * The store the node's end-to-end suites run on: the embedded SQLite, or PostgreSQL when the
 * suite runs as the `node-postgres` project (vitest.config.ts, DPN_TEST_STORE=postgres, which CI
 * runs with DPN_TEST_PG_URL). Each PostgreSQL node gets schemas of its own, dropped after the
 * file.
 */
export const PG_URL = process.env.DPN_TEST_PG_URL;
export const TEST_STORE: "sqlite" | "postgres" =
  process.env.DPN_TEST_STORE === "postgres" && PG_URL !== undefined ? "postgres" : "sqlite";

let counter = 0;
const created: string[] = [];

/** A fresh store for one node. */
export function testStore(): StoreChoice {
  if (TEST_STORE === "sqlite") return { kind: "sqlite" };
  counter += 1;
  const schemaPrefix = `dpn_t${process.pid}_${counter}`;
  created.push(schemaPrefix);
  return { kind: "postgres", connectionString: PG_URL as string, schemaPrefix };
}

afterAll(async () => {
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
});
