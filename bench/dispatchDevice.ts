import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  type Identity,
  newIdentity,
  open,
  type PublicIdentity,
  parseEnvelope,
  seal,
} from "@dpn/wire";
import { WebSocket } from "ws";

/**
 * A fast synthetic device for bench/dispatch.ts: it speaks the device channel like
 * packages/node/test/protocolDevice.ts (register, answer the capability challenge, then
 * ready / leases / results / verdicts, every frame signed and every node frame verified), but
 * answers each leases frame at once with one results frame of correct digests, and tops its
 * credit up only when half of it is used, so the node can batch many leases per frame.
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

interface LeaseFrame {
  readonly leases: ReadonlyArray<{
    readonly taskId: string;
    readonly items: ReadonlyArray<{ readonly seed: string; readonly iterations: number }>;
  }>;
}

interface VerdictFrame {
  readonly verdicts: ReadonlyArray<{ readonly taskId: string; readonly accepted: boolean }>;
}

export class FastDevice {
  readonly identity: Identity = newIdentity();
  private socket: WebSocket | undefined;
  private node: PublicIdentity | undefined;
  private credit = 0;
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
    const info = (await (await fetch(`${this.o.url}/v1/node`)).json()) as {
      id: string;
      ed25519PublicKey: string;
      mldsa44PublicKey: string;
    };
    this.node = {
      id: info.id,
      ed25519PublicKey: new Uint8Array(Buffer.from(info.ed25519PublicKey, "base64")),
      mldsa44PublicKey: new Uint8Array(Buffer.from(info.mldsa44PublicKey, "base64")),
    };
    const socket = new WebSocket(`${this.o.url.replace(/^http/, "ws")}/v1/devices/ws`);
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    socket.on("message", (data) => this.onMessage(data.toString()));
    const done = new Promise<void>((resolve, reject) => {
      this.registered = resolve;
      this.failed = reject;
    });
    this.send("device.register", {
      ed25519PublicKey: Buffer.from(this.identity.ed25519PublicKey).toString("base64"),
      mldsa44PublicKey: Buffer.from(this.identity.mldsa44PublicKey).toString("base64"),
      owner: this.o.owner,
      deviceClass: "server",
      fingerprint: createHash("sha256").update(this.identity.id).digest("hex"),
      geohash: this.o.geohash,
      cores: 2,
      memoryMiB: 4096,
      agentVersion: "bench",
      taskTypes: ["hash"],
    });
    await done;
  }

  private send(kind: string, body: unknown): void {
    this.socket?.send(JSON.stringify(seal(this.identity, kind, body, { nowMs: Date.now() })));
  }

  private onMessage(text: string): void {
    const envelope = parseEnvelope(JSON.parse(text));
    const body = open(envelope, this.node as PublicIdentity, { nowMs: Date.now() });
    switch (envelope.kind) {
      case "node.challenge": {
        const challenge = body as { challengeId: string; seed: string; iterations: number };
        const started = performance.now();
        const digest = iterate(challenge.seed, challenge.iterations);
        this.send("device.challenge-answer", {
          challengeId: challenge.challengeId,
          digest,
          elapsedMs: performance.now() - started,
        });
        return;
      }
      case "node.registered":
        this.credit = this.o.slots;
        this.send("device.ready", { slots: this.o.slots });
        this.registered?.();
        return;
      case "node.leases":
        this.onLeases(body as LeaseFrame);
        return;
      case "node.verdicts": {
        const at = performance.now();
        for (const verdict of (body as VerdictFrame).verdicts) {
          const leased = this.leasedAt.get(verdict.taskId);
          this.leasedAt.delete(verdict.taskId);
          if (verdict.accepted) this.stats.accepted += 1;
          else this.stats.rejected += 1;
          if (leased !== undefined) this.stats.latenciesMs.push(at - leased);
        }
        return;
      }
      case "node.error": {
        const error = body as { code: string; message: string };
        this.stats.errors += 1;
        this.stats.lastError = `${error.code}: ${error.message}`;
        this.failed?.(new Error(this.stats.lastError));
        return;
      }
    }
  }

  private onLeases(frame: LeaseFrame): void {
    const at = performance.now();
    const results = frame.leases.map((lease) => {
      this.leasedAt.set(lease.taskId, at);
      return {
        taskId: lease.taskId,
        outputs: lease.items.map((item) => ({ digest: iterate(item.seed, item.iterations) })),
        elapsedMs: 0,
      };
    });
    this.stats.leases += results.length;
    this.send("device.results", { results });
    this.credit -= results.length;
    // One ready frame per half a window of credit, not one per results frame: fewer signatures.
    if (this.credit <= this.o.slots / 2) {
      this.send("device.ready", { slots: this.o.slots - this.credit });
      this.credit = this.o.slots;
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
    this.socket?.close();
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
