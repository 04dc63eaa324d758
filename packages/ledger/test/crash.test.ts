import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRng } from "@dpn/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { openLedger } from "../src/ledger.ts";
import { sqliteStore } from "../src/stores/sqlite.ts";
import { makeTempDir } from "./stores.ts";

/**
 * Crash safety: a child writes postings under load and acknowledges each only after it is
 * durable; we SIGKILL it at a seeded random moment, reopen the database (which runs the audit),
 * and check that every acknowledged posting is there with its seq. Twenty kill/restart rounds on
 * one database, each with its own seed; the last round re-checks every round's acknowledgements.
 */
const ROUNDS = 20;
const here = fileURLToPath(new URL(".", import.meta.url));

function runUntilKilled(
  path: string,
  seed: number,
  killAfterMs: number,
): Promise<{ acked: Map<string, string>; failed: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", join(here, "crashWriter.ts"), path, String(seed)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const acked = new Map<string, string>();
    let failed = 0;
    let buffer = "";
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const [tag, key, seq] = line.split(" ");
        if (tag === "ready") setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        else if (tag === "ack" && key !== undefined && seq !== undefined) acked.set(key, seq);
        else if (tag === "fail") failed += 1;
      }
    });
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve({ acked, failed });
      else reject(new Error(`writer exited without being killed (${signal}): ${stderr}`));
    });
  });
}

describe("crash safety (SQLite, SIGKILL under load)", () => {
  const tmp = makeTempDir("dpn-ledger-crash-");
  afterAll(() => tmp.remove());

  it(`keeps every acknowledged posting across ${ROUNDS} kills at random moments`, {
    timeout: 120_000,
  }, async () => {
    const path = join(tmp.dir, "ledger.db");
    const rng = seededRng("crash-test");
    const everAcked = new Map<string, string>();
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { acked } = await runUntilKilled(path, round, 30 + rng.nextInt(250));
      total += acked.size;
      for (const [key, seq] of acked) everAcked.set(key, seq);
      // openLedger audits: postings balanced, entries complete, balances match, supply <= cap.
      const ledger = await openLedger({ store: sqliteStore({ path }) });
      try {
        // This round's acknowledgements, and in the last round everything ever acknowledged.
        for (const [key, seq] of round === ROUNDS - 1 ? everAcked : acked) {
          const posting = await ledger.postingByKey(key);
          expect(posting, `acknowledged ${key} lost after round ${round}`).toBeDefined();
          if (seq !== "-") expect(String(posting?.seq)).toBe(seq);
        }
        const report = await ledger.verify();
        expect(report.ok).toBe(true);
      } finally {
        await ledger.close();
      }
    }
    expect(total).toBeGreaterThan(ROUNDS * 10);
    console.log(`crash test: ${ROUNDS} SIGKILLs, ${total} acknowledged postings, all present`);
  });
});
