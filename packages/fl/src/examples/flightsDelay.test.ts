import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

describe("the flights example", () => {
  it("runs under tsx from any directory, worker threads included, and learns", async () => {
    const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
    const script = fileURLToPath(new URL("./flightsDelay.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [tsxCli, script, "--json"], {
      cwd: tmpdir(),
      timeout: 55_000,
    });
    const summary = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(summary.devices).toBe(20);
    expect(summary.sync.accuracy).toBeGreaterThan(0.54);
    expect(summary.async.accuracy).toBeGreaterThan(0.54);
    expect(summary.sync.bytesAfter).toBeLessThan(summary.sync.bytesBefore / 4);
  });
});
