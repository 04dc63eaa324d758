import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** Test helpers for running `dpn` commands as real processes. */
const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/**
 * Starts `dpn <args>` as a child process (TypeScript through tsx, as `npm run dpn` does); with
 * `stdio: "pipe"` its output can be read.
 */
export function spawnDpn(
  args: readonly string[],
  stdio: "ignore" | "pipe" = "ignore",
): ChildProcess {
  return spawn(process.execPath, ["--import", TSX, BIN, ...args], { stdio });
}

const run = promisify(execFile);

/** Runs `dpn <args>` to its end: its exit code and what it printed (a failure is not thrown). */
export async function runDpn(
  args: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", TSX, BIN, ...args]);
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: e.stdout ?? "", err: e.stderr ?? "" };
  }
}

/** Polls `fn` until it returns a value (errors count as "not yet"), or fails after the timeout. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch {
      // not there yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
