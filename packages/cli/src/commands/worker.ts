import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startDevice } from "@dpn/device";
import { DEVICE_CLASSES, type DeviceClass } from "@dpn/protocol";
import { newIdentity } from "@dpn/wire";
import { readKeyFile } from "@dpn/wire/node";
import { type Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { type CommonOptions, nodeUrl } from "../context.ts";

export interface WorkerOptions extends CommonOptions {
  readonly owner?: string;
  readonly class: string;
  readonly geohash: string;
  readonly slots?: string;
  readonly cacheDir: string;
  readonly nodeId?: string;
  readonly logLevel: string;
  readonly events: boolean;
  readonly flData?: string;
}

export function workerCommand(program: Command): void {
  program
    .command("worker")
    .description(
      "run a device agent: connect to a node, prove the capability benchmark, take and run tasks, get paid",
    )
    .option("--node <url>", "bank node URL (default $DPN_NODE or http://127.0.0.1:7070)")
    .option("--keys <path>", "the device's key file (default: a new identity for this run)")
    .option(
      "--owner <id>",
      "the account paid for this device's work (default: the device's own id)",
    )
    .option("--class <class>", `device class: ${DEVICE_CLASSES.join(", ")}`, "pc")
    .option(
      "--geohash <cell>",
      "coarse region, a precision-4 geohash (e.g. u33d for Berlin)",
      "u33d",
    )
    .option("--slots <n>", "tasks run at once (default: cores − 1)")
    .option("--cache-dir <dir>", "artifact cache", join(".dpn", "cache"))
    .option("--node-id <id>", "refuse any node but this one")
    .option("--log-level <level>", "pino log level", "info")
    .option("--events", "print one JSON line per agent event on stdout", false)
    .option(
      "--fl-data <partitions>",
      "data this device holds for federated training, comma-separated dataset:partition (e.g. flights-regions/v1:pacific)",
    )
    .action(async (options: WorkerOptions) => {
      if (!(DEVICE_CLASSES as readonly string[]).includes(options.class)) {
        throw new InvalidArgumentError(`--class must be one of ${DEVICE_CLASSES.join(", ")}`);
      }
      const identity = options.keys === undefined ? newIdentity() : readKeyFile(options.keys);
      mkdirSync(options.cacheDir, { recursive: true });
      const logger = pino({ level: options.logLevel }, pino.destination(2));
      const device = startDevice({
        nodeUrl: nodeUrl(options),
        identity,
        owner: options.owner ?? identity.id,
        deviceClass: options.class as DeviceClass,
        geohash: options.geohash,
        cacheDir: options.cacheDir,
        log: logger,
        ...(options.slots === undefined ? {} : { slots: Number(options.slots) }),
        ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
        ...(options.flData === undefined
          ? {}
          : { datasets: options.flData.split(",").filter((d) => d !== "") }),
      });
      if (options.events) {
        device.onEvent((event) => {
          process.stdout.write(
            `${JSON.stringify({ ...event, stats: device.stats() }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`,
          );
        });
      }
      const stop = async (): Promise<void> => {
        await device.stop();
        process.exit(0);
      };
      process.once("SIGINT", () => void stop());
      process.once("SIGTERM", () => void stop());
    });
}
