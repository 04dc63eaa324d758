import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/stores.ts";
import { MARKET_ACCOUNTS, SYSTEM_ACCOUNTS } from "../accounts.ts";
import { openLedger } from "../ledger.ts";
import { MIGRATION_TABLE } from "./schema.ts";
import { sqliteStore } from "./sqlite.ts";

const ADDED = [SYSTEM_ACCOUNTS.ammPool, ...Object.values(MARKET_ACCOUNTS)];

describe("sqliteStore", () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });
  const path = (): string => {
    const tmp = makeTempDir("dpn-sqlite-");
    dirs.push(tmp);
    return join(tmp.dir, "ledger.db");
  };

  it("uses WAL with synchronous=FULL and records its migrations", async () => {
    const file = path();
    const ledger = await openLedger({ store: sqliteStore({ path: file }) });
    const db = new Database(file, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const migrations = db.prepare(`select name from ${MIGRATION_TABLE}`).all();
    expect(migrations).toEqual([
      { name: "0001_ledger" },
      { name: "0002_market" },
      { name: "0003_hold_expiry" },
    ]);
    db.close();
    // synchronous is per connection; open() asserts the writer's is FULL (2).
    await ledger.close();
  });

  it("brings a ledger created before the market up to date (0002_market)", async () => {
    const file = path();
    const old = await openLedger({ store: sqliteStore({ path: file }) });
    await old.genesis({ idempotencyKey: "g", nowMs: 1 });
    await old.close();
    // Make it look exactly like a ledger written before 0002 existed.
    const db = new Database(file);
    db.exec(`delete from accounts where id in (${ADDED.map((id) => `'${id}'`).join(",")})`);
    db.exec("delete from meta where key like 'amm_%'");
    db.exec(`delete from ${MIGRATION_TABLE} where name in ('0002_market', '0003_hold_expiry')`);
    db.exec("drop index holds_open_expiry");
    db.close();
    const ledger = await openLedger({ store: sqliteStore({ path: file }) });
    expect((await ledger.verify()).ok).toBe(true);
    expect(await ledger.balance(MARKET_ACCOUNTS.ammPoolStable)).toBe(0n);
    expect((await ledger.pool()).spotPrice).toBeNull();
    await ledger.close();
  });

  it("commits many concurrent callers in few transactions", async () => {
    const ledger = await openLedger({ store: sqliteStore({ path: path() }) });
    await ledger.genesis({ idempotencyKey: "g" });
    await ledger.openAccount("owner:a");
    await ledger.openAccount("owner:b");
    await ledger.transfer({
      idempotencyKey: "f",
      from: "system:contributors",
      to: "owner:a",
      amount: 10n ** 21n,
    });
    const before = ledger.store.stats();
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        ledger.transfer({ idempotencyKey: `t${i}`, from: "owner:a", to: "owner:b", amount: 1n }),
      ),
    );
    const after = ledger.store.stats();
    expect(after.commands - before.commands).toBe(500);
    expect(after.batches - before.batches).toBe(1);
    expect(await ledger.balance("owner:b")).toBe(500n);
    await ledger.close();
  });

  it("refuses writes after close", async () => {
    const ledger = await openLedger({ store: sqliteStore({ path: path() }) });
    await ledger.close();
    await expect(ledger.openAccount("owner:x")).rejects.toMatchObject({ code: "LEDGER_CLOSED" });
  });
});
