import { createHash } from "node:crypto";
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
 * A device that speaks the channel protocol directly, for tests that need a device to misbehave
 * on purpose (forge results, replay frames, sign with the wrong key) over a real socket. Honest
 * work for hash tasks is computed for real; the agent package is the production device.
 */
export interface ProtocolDeviceOptions {
  readonly url: string;
  readonly owner: string;
  readonly deviceClass?: string;
  readonly geohash?: string;
  readonly slots?: number;
  /** Rewrite outputs before sending (to forge); default: honest. */
  readonly tamper?: (outputs: unknown[]) => unknown[];
  /** Answer a lease entirely (for zk leases, which this device cannot prove honestly). */
  readonly respond?: (lease: {
    taskId: string;
    type: string;
    items: unknown[];
  }) => Promise<unknown[]>;
  readonly taskTypes?: string[];
  /** Data held for fl-train ("dataset:partition"). */
  readonly datasets?: string[];
  /** What the device has for kinds that need it (`{ render: { blender } }`). */
  readonly capabilities?: Record<string, unknown>;
  /** Connect as this identity (default: a fresh one), e.g. to reconnect as the same device. */
  readonly identity?: Identity;
}

export interface Frame {
  readonly kind: string;
  readonly body: unknown;
}

export function iterate(seedHex: string, iterations: number): string {
  let d: Buffer = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) d = createHash("sha256").update(d).digest();
  return d.toString("hex");
}

export class ProtocolDevice {
  readonly identity: Identity;
  readonly frames: Frame[] = [];
  socket!: WebSocket;
  private node!: PublicIdentity;
  private waiters: Array<{ kind: string; resolve: (f: Frame) => void }> = [];

  constructor(private readonly o: ProtocolDeviceOptions) {
    this.identity = o.identity ?? newIdentity();
  }

  async connect(): Promise<Frame> {
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
    this.socket = new WebSocket(`${this.o.url.replace(/^http/, "ws")}/v1/devices/ws`);
    await new Promise<void>((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
    this.socket.on("message", (data) => this.onMessage(data.toString()));
    this.send("device.register", {
      ed25519PublicKey: Buffer.from(this.identity.ed25519PublicKey).toString("base64"),
      mldsa44PublicKey: Buffer.from(this.identity.mldsa44PublicKey).toString("base64"),
      owner: this.o.owner,
      deviceClass: this.o.deviceClass ?? "server",
      fingerprint: createHash("sha256").update(this.identity.id).digest("hex"),
      geohash: this.o.geohash ?? "u33d",
      cores: 2,
      memoryMiB: 4096,
      agentVersion: "test",
      taskTypes: this.o.taskTypes ?? ["hash", "zk-groth16"],
      ...(this.o.datasets === undefined ? {} : { datasets: this.o.datasets }),
      ...(this.o.capabilities === undefined ? {} : { capabilities: this.o.capabilities }),
    });
    const challenge = (await this.next("node.challenge")).body as {
      challengeId: string;
      seed: string;
      iterations: number;
    };
    const started = performance.now();
    const digest = iterate(challenge.seed, challenge.iterations);
    this.send("device.challenge-answer", {
      challengeId: challenge.challengeId,
      digest,
      elapsedMs: performance.now() - started,
    });
    return this.next("node.registered");
  }

  send(kind: string, body: unknown): string {
    const text = JSON.stringify(seal(this.identity, kind, body, { nowMs: Date.now() }));
    this.socket.send(text);
    return text;
  }

  private onMessage(text: string): void {
    const envelope = parseEnvelope(JSON.parse(text));
    const body = open(envelope, this.node, { nowMs: Date.now() });
    const frame = { kind: envelope.kind, body };
    this.frames.push(frame);
    const at = this.waiters.findIndex((w) => w.kind === frame.kind);
    if (at !== -1) {
      const [waiter] = this.waiters.splice(at, 1);
      waiter?.resolve(frame);
    }
  }

  /** The next frame of `kind` (already received or still to come). */
  next(kind: string, timeoutMs = 30_000): Promise<Frame> {
    const at = this.frames.findIndex((f) => f.kind === kind);
    if (at !== -1) return Promise.resolve(this.frames.splice(at, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${kind} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        kind,
        resolve: (f) => {
          clearTimeout(timer);
          const i = this.frames.indexOf(f);
          if (i !== -1) this.frames.splice(i, 1);
          resolve(f);
        },
      });
    });
  }

  /** Works one round: asks for `slots` leases, computes hash items honestly, returns results. */
  async workOnce(): Promise<{
    leases: Array<{ taskId: string }>;
    verdicts: Array<{ taskId: string; accepted: boolean; code?: string; reward: string }>;
  }> {
    this.send("device.ready", { slots: this.o.slots ?? 4 });
    const { leases } = (await this.next("node.leases")).body as {
      leases: Array<{
        taskId: string;
        type: string;
        items: Array<{ seed: string; iterations: number }>;
      }>;
    };
    const results = await Promise.all(
      leases.map(async (lease) => {
        if (this.o.respond !== undefined) {
          return { taskId: lease.taskId, outputs: await this.o.respond(lease), elapsedMs: 1 };
        }
        const outputs: unknown[] = lease.items.map((item) => ({
          digest: iterate(item.seed, item.iterations),
        }));
        return {
          taskId: lease.taskId,
          outputs: this.o.tamper ? this.o.tamper(outputs) : outputs,
          elapsedMs: 1,
        };
      }),
    );
    this.send("device.results", { results });
    const { verdicts } = (await this.next("node.verdicts")).body as {
      verdicts: Array<{ taskId: string; accepted: boolean; code?: string; reward: string }>;
    };
    return { leases, verdicts };
  }

  close(): void {
    this.socket.close();
  }
}
