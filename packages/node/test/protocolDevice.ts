import { createHash, scryptSync } from "node:crypto";
import {
  createSession,
  type Identity,
  laneSeed,
  memoryProbeParams,
  memoryProbeSalt,
  newIdentity,
  type RegisterFields,
  SessionDriver,
  type SessionEvent,
  seal,
} from "@dpn/wire";
import { WebSocket } from "ws";

/**
 * A device for tests that need a device to misbehave on purpose (forge results, replay frames,
 * sign with the wrong key) over a real socket. The session itself — node identity, register,
 * challenge, every node frame opened and checked — is @dpn/wire's device session, as in every
 * device; the session leases nothing by itself (slots: 0), so a test asks for work and answers it
 * frame by frame: `send` seals any body, valid or not, and sends it through the driver's escape
 * hatch, and `socket` is the raw `ws` socket. Honest work for hash tasks is computed for real.
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
  /** The hardware fingerprint declared (default: one of the identity's own, so none is shared). */
  readonly fingerprint?: string;
  /** Cores declared: the challenge's lanes (default 1, to keep registration cheap). */
  readonly cores?: number;
  /** Memory declared, MiB (default 4096). */
  readonly memoryMiB?: number;
  /** Wait this long before answering the challenge (a device holding its measurement back). */
  readonly answerDelayMs?: number;
}

export interface Frame {
  readonly kind: string;
  readonly body: unknown;
}

/** The challenge's memory probe with Node's scrypt (the same bytes as @dpn/wire's memoryProbe). */
function probeMemory(seedHex: string, memoryMiB: number): string {
  const { N, r, p } = memoryProbeParams(memoryMiB);
  const options = { N, r, p, maxmem: 128 * N * r + 1024 * 1024 };
  return scryptSync(Buffer.from(seedHex, "hex"), memoryProbeSalt(), 32, options).toString("hex");
}

export function iterate(seedHex: string, iterations: number): string {
  let d: Buffer = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) d = createHash("sha256").update(d).digest();
  return d.toString("hex");
}

export class ProtocolDevice {
  readonly identity: Identity;
  /** Verified node frames not yet taken by next(). */
  readonly frames: Frame[] = [];
  socket!: WebSocket;
  private driver: SessionDriver | undefined;
  private waiters: Array<{ kind: string; resolve: (f: Frame) => void }> = [];
  private failed: ((error: Error) => void) | undefined;
  private closeCode: number | undefined;
  private closeReason: string | undefined;

  constructor(private readonly o: ProtocolDeviceOptions) {
    this.identity = o.identity ?? newIdentity();
  }

  /** Registers; resolves with node.registered, rejects if the session ends before it. */
  async connect(): Promise<Frame> {
    const register = {
      owner: this.o.owner,
      deviceClass: this.o.deviceClass ?? "server",
      fingerprint:
        this.o.fingerprint ?? createHash("sha256").update(this.identity.id).digest("hex"),
      geohash: this.o.geohash ?? "u33d",
      cores: this.o.cores ?? 1,
      memoryMiB: this.o.memoryMiB ?? 4096,
      agentVersion: "test",
      taskTypes: this.o.taskTypes ?? ["hash", "zk-groth16"],
      ...(this.o.datasets === undefined ? {} : { datasets: this.o.datasets }),
      ...(this.o.capabilities === undefined ? {} : { capabilities: this.o.capabilities }),
    } as RegisterFields;
    const session = createSession({
      nodeUrl: this.o.url,
      identity: this.identity,
      register,
      slots: 0, // the test asks for leases and answers them (workOnce, send)
      backoff: false, // and decides when to connect again
      startedAtMs: Date.now(),
    });
    const failure = new Promise<never>((_, reject) => {
      this.failed = reject;
    });
    this.driver = new SessionDriver(session, {
      openSocket: (url) => {
        const socket = new WebSocket(url);
        socket.once("close", (code, reason) => {
          this.closeCode = code;
          this.closeReason = reason.toString();
        });
        this.socket = socket;
        return socket;
      },
      solveChallenge: async (challenge) => {
        const started = performance.now();
        const digests = Array.from({ length: challenge.lanes }, (_, lane) =>
          iterate(laneSeed(challenge.seed, lane), challenge.iterations),
        );
        const memoryDigest =
          challenge.memoryMiB === 0 ? undefined : probeMemory(challenge.seed, challenge.memoryMiB);
        const delay = this.o.answerDelayMs ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        return {
          digests,
          ...(memoryDigest === undefined ? {} : { memoryDigest }),
          elapsedMs: performance.now() - started,
        };
      },
      onEvent: (event) => this.onEvent(event),
    });
    this.driver.start();
    const registered = await Promise.race([this.next("node.registered"), failure]);
    this.failed = undefined;
    return registered;
  }

  /** Seals `body` (checked against nothing) and sends it; returns the frame's text. */
  send(kind: string, body: unknown): string {
    const text = JSON.stringify(seal(this.identity, kind, body, { nowMs: Date.now() }));
    this.driver?.sendRaw(text);
    return text;
  }

  private onEvent(event: SessionEvent): void {
    switch (event.type) {
      case "frame": {
        const frame = { kind: event.message.kind, body: event.message.body };
        const at = this.waiters.findIndex((w) => w.kind === frame.kind);
        if (at === -1) {
          this.frames.push(frame);
          return;
        }
        const [waiter] = this.waiters.splice(at, 1);
        waiter?.resolve(frame);
        return;
      }
      case "connect-failed":
        this.failed?.(new Error(`${event.code}: ${event.message}`));
        return;
      case "closed":
        this.failed?.(new Error(`the node closed the channel (${event.code} ${event.reason})`));
        return;
      default:
        return;
    }
  }

  /** The next frame of `kind` (already received or still to come). */
  next(kind: string, timeoutMs = 30_000): Promise<Frame> {
    const at = this.frames.findIndex((f) => f.kind === kind);
    if (at !== -1) return Promise.resolve(this.frames.splice(at, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const waiter = {
        kind,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
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

  /** Resolves with the close code and reason once the socket is closed (by either side). */
  closed(): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) {
        resolve({ code: this.closeCode ?? 1006, reason: this.closeReason ?? "" });
        return;
      }
      this.socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  close(): void {
    void this.driver?.stop();
  }
}
