import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/** `dpn job submit --type sql-analytics`: a bad query fails with its code before any upload. */
const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const run = promisify(execFile);

async function dpn(args: readonly string[]): Promise<{ code: number; err: string }> {
  try {
    await run(process.execPath, ["--import", TSX, BIN, ...args]);
    return { code: 0, err: "" };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? -1, err: e.stderr ?? "" };
  }
}

describe("dpn job submit --type sql-analytics", () => {
  it("refuses SQL that writes, reads files or is missing, naming the code", async () => {
    // No node is running at this address: each refusal happens before the CLI contacts one.
    const common = ["job", "submit", "--type", "sql-analytics", "--node", "http://127.0.0.1:9"];
    const [drop, file, none] = await Promise.all([
      dpn([...common, "--query", "DROP TABLE fragment", "--example-data", "2"]),
      dpn([...common, "--query", "SELECT count(*) FROM read_csv('/etc/passwd')"]),
      dpn([...common, "--example-data", "2"]),
    ]);
    expect(drop.code).toBe(1);
    expect(drop.err).toContain("ANALYTICS_QUERY_REJECTED");
    expect(file.err).toContain("ANALYTICS_QUERY_REJECTED");
    expect(none.err).toContain("CLI_INVALID_OPTION");
  }, 60_000);
});
