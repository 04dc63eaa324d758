import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANALYTICS_FRAGMENT_INVALID, ANALYTICS_QUERY_REJECTED } from "./errors.ts";
import { runFragmentQuery } from "./execute.ts";
import { type FragmentDb, openFragmentDb } from "./fragmentDb.ts";
import { errorOf, tempDir, writeFragment } from "./testing.ts";

const dir = tempDir();
const fragment = join(dir, "fragment.parquet");
const secret = join(dir, "secret.csv");
let db: FragmentDb;

beforeAll(async () => {
  await writeFragment(fragment, [{ name: "x", type: "BIGINT" }], [[1], [2], [3]]);
  writeFileSync(secret, "password\nhunter2\n");
  db = await openFragmentDb({ path: fragment });
});

afterAll(() => db.close());

async function engineRefuses(sql: string): Promise<string> {
  try {
    await db.run(sql);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`the engine ran: ${sql}`);
}

describe("openFragmentDb lockdown (engine level, bypassing validation)", () => {
  it("serves the fragment as the view `fragment`", async () => {
    const reader = await db.run("SELECT count(*), sum(x) FROM fragment");
    expect(reader.getRowsJson()).toEqual([["3", "6"]]);
  });

  it.each([
    "SELECT count(*) FROM read_csv('/etc/passwd')",
    `SELECT count(*) FROM read_csv('${secret}')`,
    `SELECT * FROM read_text('${secret}')`,
    `SELECT * FROM '${secret}'`,
    `SELECT * FROM glob('${dir}/*')`,
  ])("refuses to read another file: %s", async (sql) => {
    expect(await engineRefuses(sql)).toMatch(/Permission Error|disabled/);
  });

  it("refuses to write files, attach databases or load extensions", async () => {
    const target = join(dir, "leak.csv");
    expect(await engineRefuses(`COPY (SELECT * FROM fragment) TO '${target}'`)).toMatch(
      /Permission Error/,
    );
    expect(existsSync(target)).toBe(false);
    expect(await engineRefuses(`ATTACH '${join(dir, "other.db")}' AS other`)).toMatch(
      /Permission Error/,
    );
    expect(await engineRefuses("INSTALL httpfs")).toMatch(/Permission Error/);
    expect(await engineRefuses("LOAD httpfs")).toMatch(/disabled/);
  });

  it("cannot be unlocked", async () => {
    expect(await engineRefuses("SET enable_external_access = true")).toMatch(/locked/);
    expect(await engineRefuses("RESET lock_configuration")).toMatch(/locked/);
    expect(await engineRefuses(`SET allowed_paths = ['/etc/passwd']`)).toMatch(/locked/);
    expect(await engineRefuses("SET autoinstall_known_extensions = true")).toMatch(/locked/);
  });
});

describe("read_csv('/etc/passwd') is refused twice over", () => {
  it("by validation, before DuckDB is even opened", async () => {
    const error = await errorOf(() =>
      runFragmentQuery({ path: fragment }, "SELECT count(*) FROM read_csv('/etc/passwd')"),
    );
    expect(error.code).toBe(ANALYTICS_QUERY_REJECTED);
    expect(error.details.reason).toBe("reads-files");
  });

  it("and by the engine lockdown if validation were bypassed", async () => {
    expect(await engineRefuses("SELECT count(*) FROM read_csv('/etc/passwd')")).toMatch(
      /Permission Error: Cannot access file "\/etc\/passwd"/,
    );
  });
});

describe("fragment references", () => {
  it.each([
    ["a relative path", "fragment.parquet"],
    ["a glob", join(dir, "*.parquet")],
    ["a brace glob", join(dir, "{a,b}.parquet")],
    ["a URL", "/x/https://example.com/a.parquet"],
    ["a missing file", join(dir, "missing.parquet")],
    ["an unknown extension", secret.replace(".csv", ".txt")],
  ])("refuses %s", async (_name, path) => {
    expect((await errorOf(() => openFragmentDb({ path }))).code).toBe(ANALYTICS_FRAGMENT_INVALID);
  });

  it("refuses a directory", async () => {
    const error = await errorOf(() => openFragmentDb({ path: dir, format: "parquet" }));
    expect(error.code).toBe(ANALYTICS_FRAGMENT_INVALID);
  });

  it("refuses a file DuckDB cannot parse as the claimed format", async () => {
    const error = await errorOf(() => openFragmentDb({ path: secret, format: "parquet" }));
    expect(error.code).toBe(ANALYTICS_FRAGMENT_INVALID);
  });
});
