import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** `dpn worker` as a child process, the way the demos run their devices (tsx, like npm run dpn). */
const BIN = fileURLToPath(new URL("../bin.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

export interface WorkerProcessOptions {
  readonly nodeUrl: string;
  readonly keys: string;
  readonly owner: string;
  readonly deviceClass: string;
  readonly geohash: string;
  readonly cacheDir: string;
  /** More `dpn worker` flags (`--events`, `--fl-data …`). */
  readonly extra?: readonly string[];
  /** "pipe" to read the worker's event lines; "ignore" otherwise. */
  readonly stdout: "pipe" | "ignore";
}

export function spawnWorker(o: WorkerProcessOptions): ChildProcess {
  return spawn(
    process.execPath,
    [
      "--import",
      TSX,
      BIN,
      "worker",
      "--node",
      o.nodeUrl,
      "--keys",
      o.keys,
      "--owner",
      o.owner,
      "--class",
      o.deviceClass,
      "--geohash",
      o.geohash,
      "--slots",
      "1",
      "--cache-dir",
      o.cacheDir,
      "--log-level",
      "warn",
      ...(o.extra ?? []),
    ],
    { stdio: ["ignore", o.stdout, "inherit"] },
  );
}

/** SIGTERM, then SIGKILL after 5 s; resolves when every process has exited. */
export async function stopProcesses(
  children: ReadonlyArray<ChildProcess | undefined>,
): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child === undefined || child.exitCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}
