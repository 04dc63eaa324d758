import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  canonicalJson,
  FLIGHTS_3M_PARQUET,
  parseSqlQuery,
  runFragmentQuery,
  sha256Hex,
  splitDataset,
} from "@dpn/analytics";
import { isDpnError } from "@dpn/protocol";
import type { Lease } from "@dpn/wire";
import { describe, expect, it } from "vitest";
import { ArtifactCache } from "./artifactCache.ts";
import type { ExecutorPool } from "./executors/pool.ts";
import { runLease } from "./taskRunner.ts";

/** The device side of sql-analytics: a lease runs the query over the fragment it downloads. */
describe("runLease for sql-analytics", () => {
  it("returns the fragment's canonical partial and its digest, and refuses a mismatched lease", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dpn-device-analytics-"));
    const { paths, rows } = await splitDataset({
      source: FLIGHTS_3M_PARQUET,
      outDir: join(dir, "data"),
      fragments: 1,
      rows: 5_000,
    });
    const bytes = readFileSync(paths[0] as string);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const cache = new ArtifactCache({
      dir: join(dir, "cache"),
      source: async function* () {
        yield bytes;
      },
    });
    const query = parseSqlQuery(
      "SELECT origin, count(*), sum(delay) FROM fragment GROUP BY origin",
    );
    const lease: Lease = {
      taskId: "job_1.0",
      jobId: "job_1",
      type: "sql-analytics",
      leaseExpiresAtMs: Date.now() + 60_000,
      artifacts: { fragment: sha256 },
      items: [
        {
          sha256,
          format: "parquet",
          rows: rows[0] ?? 1,
          query: query as unknown as Record<string, unknown>,
        },
      ],
    };
    // Analytics never touches the proving pool.
    const runner = { pool: {} as ExecutorPool, cache };
    const result = await runLease(lease, runner, new AbortController().signal);
    const [output] = result.outputs as Array<{ partial: unknown; digest: string }>;
    const reference = await runFragmentQuery(
      { path: paths[0] as string, format: "parquet" },
      query,
    );
    expect(output?.partial).toEqual(reference.partial);
    expect(output?.digest).toBe(sha256Hex(canonicalJson(reference.partial)));

    const error = await runLease(
      { ...lease, artifacts: { fragment: "0".repeat(64) } },
      runner,
      new AbortController().signal,
    ).catch((e: unknown) => e);
    expect(isDpnError(error) ? error.code : error).toBe("DEVICE_TASK_INVALID");
  }, 60_000);

  it("keeps the device's privacy account on disk: a restarted device cannot release past it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dpn-device-privacy-"));
    const cache = new ArtifactCache({
      dir: join(dir, "cache"),
      source: async function* () {
        yield new Uint8Array();
      },
    });
    const lease = (taskId: string): Lease => ({
      taskId,
      jobId: "job_f",
      type: "fl-features",
      leaseExpiresAtMs: Date.now() + 60_000,
      artifacts: {},
      items: [
        {
          dataset: "penguins-islands/v1",
          partition: "dream",
          featureEpsilon: 3,
          labelEpsilon: 1,
        },
      ],
    });
    const runner = { pool: {} as ExecutorPool, cache, deviceId: "dpn_a", stateDir: dir };
    const signal = new AbortController().signal;
    const [released] = (await runLease(lease("t1"), runner, signal)).outputs as Array<{
      rows: number;
    }>;
    expect(released?.rows).toBeGreaterThan(50);
    const saved = JSON.parse(readFileSync(join(dir, "privacy-dpn_a.json"), "utf8")) as Array<{
      spentEpsilonUnits: string;
    }>;
    expect(saved[0]?.spentEpsilonUnits).toBe((4n * 10n ** 18n).toString());
    // Another device whose saved account is already spent (as after a restart) refuses.
    writeFileSync(
      join(dir, "privacy-dpn_b.json"),
      JSON.stringify([
        { ...saved[0], deviceId: "dpn_b", spentEpsilonUnits: (8n * 10n ** 18n).toString() },
      ]),
    );
    const refused = await runLease(lease("t2"), { ...runner, deviceId: "dpn_b" }, signal).catch(
      (e: unknown) => e,
    );
    expect(isDpnError(refused) ? refused.code : refused).toBe("DP_BUDGET_EXCEEDED");
  }, 60_000);
});
