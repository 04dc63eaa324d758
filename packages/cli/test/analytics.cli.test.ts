import { describe, expect, it } from "vitest";
import { runDpn } from "./processes.ts";

/** `dpn job submit --type sql-analytics`: a bad query fails with its code before any upload. */

describe("dpn job submit --type sql-analytics", () => {
  it("refuses SQL that writes, reads files or is missing, naming the code", async () => {
    // No node is running at this address: each refusal happens before the CLI contacts one.
    const common = ["job", "submit", "--type", "sql-analytics", "--node", "http://127.0.0.1:9"];
    const [drop, file, none] = await Promise.all([
      runDpn([...common, "--query", "DROP TABLE fragment", "--example-data", "2"]),
      runDpn([...common, "--query", "SELECT count(*) FROM read_csv('/etc/passwd')"]),
      runDpn([...common, "--example-data", "2"]),
    ]);
    expect(drop.code).toBe(1);
    expect(drop.err).toContain("ANALYTICS_QUERY_REJECTED");
    expect(file.err).toContain("ANALYTICS_QUERY_REJECTED");
    expect(none.err).toContain("CLI_INVALID_OPTION");
  }, 60_000);
});
