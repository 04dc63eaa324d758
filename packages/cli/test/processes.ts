import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Test helpers for running `dpn` commands as real processes. */
const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/** Starts `dpn <args>` as a child process (TypeScript through tsx, as `npm run dpn` does). */
export function spawnDpn(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ["--import", TSX, BIN, ...args], { stdio: "ignore" });
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
