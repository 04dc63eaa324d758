import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { dropSchema, PG_URL, pgSchemaName } from "../../test/stores.ts";
import { openLedger } from "../ledger.ts";
import { postgresStore } from "./postgres.ts";
import { MIGRATION_TABLE } from "./schema.ts";

describe.skipIf(PG_URL === undefined)("postgresStore (set DPN_TEST_PG_URL to run)", () => {
  const schema = pgSchemaName("pg");
  afterAll(() => dropSchema(schema));

  it("migrates once even when several nodes open the same schema together", async () => {
    await dropSchema(schema);
    const ledgers = await Promise.all(
      [1, 2, 3].map(() =>
        openLedger({
          store: postgresStore({ connectionString: PG_URL ?? "", schema, poolSize: 2 }),
        }),
      ),
    );
    const db = ledgers[0]?.store.reader();
    if (db === undefined) throw new Error("no ledger");
    const { rows } = await sql<{
      name: string;
    }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(db);
    expect(rows.map((r) => r.name)).toEqual(["0001_ledger", "0002_market", "0003_hold_expiry"]);
    const types = await sql<{ column_name: string; type: string }>`
      select column_name, format_type(atttypid, atttypmod) as type
      from information_schema.columns c
      join pg_attribute a on a.attname = c.column_name
      join pg_class t on t.oid = a.attrelid and t.relname = c.table_name
      join pg_namespace n on n.oid = t.relnamespace and n.nspname = c.table_schema
      where c.table_schema = ${schema} and c.table_name = 'entries' and c.column_name in ('amount', 'balance_after')
      order by column_name`.execute(db);
    expect(types.rows).toEqual([
      { column_name: "amount", type: "numeric(78,0)" },
      { column_name: "balance_after", type: "numeric(78,0)" },
    ]);
    for (const ledger of ledgers) await ledger.close();
  });

  it("stores amounts up to 2^255 - 1 exactly", async () => {
    const ledger = await openLedger({
      store: postgresStore({ connectionString: PG_URL ?? "", schema, poolSize: 2 }),
    });
    const huge = 2n ** 255n - 1n;
    await ledger.genesis({ idempotencyKey: "g", cap: huge });
    expect((await ledger.supply()).issued).toBe(huge);
    await ledger.close();
  });
});
