import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  createSession,
  type HashItem,
  type Identity,
  laneSeed,
  newIdentity,
  SessionDriver,
  type SessionEvent,
} from "@dpn/wire";
import { WebSocket } from "ws";

/**
 * A fast synthetic device for bench/dispatch.ts. It runs the device session every DPN device runs
 * (@dpn/wire: register, answer the capability challenge, then ready / leases / results /
 * verdicts, every frame signed and every node frame opened and checked); its only task executor
 * answers a hash lease at once with correct digests, so the results of one leases frame go back
 * in one results frame. It tops its credit up only when half of it is used (offerAtLeast), so the
 * node can batch many leases per frame.
 *
 * Dispatch latency here = the device received a lease → it received that task's verdict
 * (device signs results, node verifies the frame, recomputes, settles, signs the verdicts).
 *
 * Run as a child process (`fork` this file) it hosts a fleet of such devices and is driven
 * over IPC by the parent: start, reset, stats, close.
 */
export interface FastDeviceOptions {
  readonly url: string;
  readonly owner: string;
  readonly slots: number;
  readonly geohash: string;
}

export interface DeviceStats {
  readonly leases: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly errors: number;
  readonly lastError: string;
  /** Lease received → verdict received, ms, one per verdict since the last reset. */
  readonly latenciesMs: number[];
}

function iterate(seedHex: string, iterations: number): string {
  let d: Buffer = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) d = createHash("sha256").update(d).digest();
  return d.toString("hex");
}

export class FastDevice {
  readonly identity: Identity = newIdentity();
  private driver: SessionDriver | undefined;
  private readonly leasedAt = new Map<string, number>();
  private registered: (() => void) | undefined;
  private failed: ((error: Error) => void) | undefined;
  private stats = {
    leases: 0,
    accepted: 0,
    rejected: 0,
    errors: 0,
    lastError: "",
    latenciesMs: [] as number[],
  };

  constructor(private readonly o: FastDeviceOptions) {}

  async connect(): Promise<void> {
    const session = createSession({
      nodeUrl: this.o.url,
      identity: this.identity,
      register: {
        owner: this.o.owner,
        deviceClass: "server",
        fingerprint: createHash("sha256").update(this.identity.id).digest("hex"),
        geohash: this.o.geohash,
        cores: 1,
        memoryMiB: 16,
        agentVersion: "bench",
        taskTypes: ["hash"],
      },
      slots: this.o.slots,
      // One ready frame per half a window of credit, not one per results frame: fewer signatures.
      offerAtLeast: Math.ceil(this.o.slots / 2),
      backoff: false,
      startedAtMs: Date.now(),
    });
    const done = new Promise<void>((resolve, reject) => {
      this.registered = resolve;
      this.failed = reject;
    });
    this.driver = new SessionDriver(session, {
      openSocket: (url) => new WebSocket(url),
      // One lane (cores: 1) and no memory probe (too little memory declared): hash work only.
      async solveChallenge({ seed, iterations, lanes }) {
        const started = performance.now();
        const digests = Array.from({ length: lanes }, (_, lane) =>
          iterate(laneSeed(seed, lane), iterations),
        );
        return { digests, elapsedMs: performance.now() - started };
      },
      async runTask(lease) {
        const items = lease.items as HashItem[];
        return {
          taskId: lease.taskId,
          outputs: items.map((item) => ({ digest: iterate(item.seed, item.iterations) })),
          elapsedMs: 0,
        };
      },
      onEvent: (event) => this.onEvent(event),
    });
    this.driver.start();
    await done;
  }

  private onEvent(event: SessionEvent): void {
    switch (event.type) {
      case "registered":
        this.registered?.();
        return;
      case "task-started":
        this.leasedAt.set(event.lease.taskId, performance.now());
        this.stats.leases += 1;
        return;
      case "verdict": {
        const { verdict } = event;
        const leased = this.leasedAt.get(verdict.taskId);
        this.leasedAt.delete(verdict.taskId);
        if (verdict.accepted) this.stats.accepted += 1;
        else this.stats.rejected += 1;
        if (leased !== undefined) this.stats.latenciesMs.push(performance.now() - leased);
        return;
      }
      case "node-error":
      case "frame-ignored":
      case "connect-failed":
      case "closed": {
        const what =
          event.type === "closed"
            ? `closed: ${event.code} ${event.reason}`
            : `${event.code}: ${event.message}`;
        if (event.type === "closed" && event.code === 1000) return;
        this.stats.errors += 1;
        this.stats.lastError = what;
        this.failed?.(new Error(what));
        return;
      }
      default:
        return;
    }
  }

  takeStats(): DeviceStats {
    const stats = this.stats;
    this.stats = {
      leases: 0,
      accepted: 0,
      rejected: 0,
      errors: 0,
      lastError: "",
      latenciesMs: [],
    };
    return stats;
  }

  close(): void {
    void this.driver?.stop();
  }
}

/** A fleet of devices, in this process; the parent drives it directly or over IPC. */
export class Fleet {
  readonly devices: FastDevice[] = [];

  /** Devices register one at a time: the node benchmarks each (0.25 M SHA-256 iterations). */
  async start(options: {
    url: string;
    owners: readonly string[];
    count: number;
    slots: number;
  }): Promise<void> {
    const regions = ["u33d", "u09t", "gcpv", "dr5r", "9q8y", "xn76", "wx4g", "tdr1"];
    for (let i = 0; i < options.count; i++) {
      const device = new FastDevice({
        url: options.url,
        owner: options.owners[i % options.owners.length] as string,
        slots: options.slots,
        geohash: regions[i % regions.length] as string,
      });
      await device.connect();
      this.devices.push(device);
    }
  }

  stats(): DeviceStats {
    const all = this.devices.map((d) => d.takeStats());
    return {
      leases: all.reduce((n, s) => n + s.leases, 0),
      accepted: all.reduce((n, s) => n + s.accepted, 0),
      rejected: all.reduce((n, s) => n + s.rejected, 0),
      errors: all.reduce((n, s) => n + s.errors, 0),
      lastError: all.find((s) => s.lastError !== "")?.lastError ?? "",
      latenciesMs: all.flatMap((s) => s.latenciesMs),
    };
  }

  close(): void {
    for (const device of this.devices) device.close();
  }
}

export type FleetCommand =
  | {
      readonly cmd: "start";
      readonly url: string;
      readonly owners: string[];
      readonly count: number;
      readonly slots: number;
    }
  | { readonly cmd: "stats" }
  | { readonly cmd: "close" };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fleet = new Fleet();
  process.on("message", (message: FleetCommand) => {
    const reply = (value: unknown): void => {
      process.send?.(value);
    };
    if (message.cmd === "start") {
      fleet.start(message).then(
        () => reply({ ok: true }),
        (error: unknown) => reply({ ok: false, error: String(error) }),
      );
    } else if (message.cmd === "stats") {
      reply(fleet.stats());
    } else {
      fleet.close();
      process.disconnect?.();
    }
  });
  process.on("disconnect", () => {
    fleet.close();
    setTimeout(() => process.exit(0), 100).unref();
  });
}
