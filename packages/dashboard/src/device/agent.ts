import { idleMsAfter } from "./dutyCycle.ts";
import {
  type BrowserIdentity,
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  openEnvelope,
  type PublicKeys,
  seal,
  sha256,
} from "./envelope.ts";
import type { CircuitInput, Executor } from "./executor.ts";

/**
 * A browser tab as a DPN device (issue 7, "Contribute this device"): registers over the device
 * channel (/v1/devices/ws) with its own keys, answers the benchmark challenge, then asks for one
 * lease at a time. `hash` tasks and, when the node classified the tab heavy (docs/protocol.md
 * §Devices), `zk-groth16` tasks run on the executor — a Web Worker in the page, with snarkjs for
 * the proofs — and their results go back signed. The CPU share is a duty cycle (dutyCycle.ts);
 * while the page says to pause (tab hidden, on battery), no new work is taken and a lease in
 * progress waits between items.
 */
/** The socket the agent needs: the browser's WebSocket in the page, `ws` in Node tests. */
export interface SocketLike {
  send(text: string): void;
  close(): void;
}

export interface SocketHandlers {
  readonly onOpen: () => void;
  readonly onMessage: (text: string) => void;
  readonly onClose: (code: number, reason: string) => void;
  readonly onError: () => void;
}

export interface AgentOptions {
  /** The node's base URL (http…); the socket goes to its /v1/devices/ws. */
  readonly nodeUrl: string;
  readonly identity: BrowserIdentity;
  /** The account paid for this device's work. */
  readonly owner: string;
  readonly geohash: string;
  readonly deviceClass: "browser" | "phone";
  readonly cores: number;
  readonly memoryMiB: number;
  readonly fingerprintText: string;
  /** Where the work runs: a Web Worker in the page (WorkerExecutor), in-process in Node tests. */
  readonly executor: Executor;
  /** Fraction of one core, (0, 1], read before each piece of work. */
  readonly cpuShare: () => number;
  /** Why the device must not work now ("tab hidden", "on battery"), or undefined when it may. */
  readonly pauseReason: () => string | undefined;
  readonly openSocket: (url: string, handlers: SocketHandlers) => SocketLike;
  readonly onEvent: (event: AgentEvent) => void;
  /** How often leases in progress are renewed (device.heartbeat); default HEARTBEAT_MS. */
  readonly heartbeatMs?: number;
}

export type AgentEvent =
  | { readonly type: "status"; readonly status: AgentStatus; readonly detail?: string }
  | {
      readonly type: "registered";
      readonly deviceClass: string;
      readonly layer: string;
      readonly benchmarkCuPerSec: number;
    }
  | {
      readonly type: "lease";
      readonly taskId: string;
      readonly taskType: string;
      readonly items: number;
    }
  | {
      readonly type: "task-done";
      readonly taskId: string;
      readonly taskType: string;
      readonly items: number;
      /** Compute time of the items, without downloads, rests and pauses. */
      readonly elapsedMs: number;
    }
  | { readonly type: "task-failed"; readonly taskId: string; readonly message: string }
  | {
      readonly type: "verdict";
      readonly taskId: string;
      readonly accepted: boolean;
      readonly reward: string;
      readonly code?: string;
    };

export type AgentStatus =
  | "connecting"
  | "benchmarking"
  | "idle"
  | "working"
  | "paused"
  | "stopped"
  | "error";

interface Lease {
  readonly taskId: string;
  readonly type: string;
  readonly leaseExpiresAtMs: number;
  readonly artifacts: Readonly<Record<string, string>>;
  readonly items: readonly unknown[];
}

interface TaskResult {
  readonly taskId: string;
  readonly outputs: unknown[];
  readonly elapsedMs: number;
}

/** Hash iterations per lease item accepted: the node's own bound is far above a tab's patience. */
const MAX_ITERATIONS = 100_000_000;
/** Items per lease accepted: the node's fragments hold at most 256. */
const MAX_LEASE_ITEMS = 256;
/** Renewal period of leases in progress; the node's lease is 120 s by default. */
export const HEARTBEAT_MS = 10_000;
/** While paused, how often the conditions are re-read (conditionsChanged() wakes it sooner). */
const PAUSE_POLL_MS = 1_000;
/** Iterations run once before registering, so the benchmark times a warm worker and JIT. */
const WARM_UP_ITERATIONS = 16_384;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const DECIMAL = /^\d{1,78}$/;
const SIGNAL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A zk-groth16 item as the node sends it (@dpn/wire CircuitInput), or undefined. */
function circuitInput(item: unknown): CircuitInput | undefined {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return undefined;
  for (const [name, value] of Object.entries(item)) {
    if (!SIGNAL_NAME.test(name)) return undefined;
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.length > 4096 || !values.every((v) => typeof v === "string" && DECIMAL.test(v)))
      return undefined;
  }
  return item as CircuitInput;
}

function hashItem(item: unknown): { seed: string; iterations: number } | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const { seed, iterations } = item as { seed?: unknown; iterations?: unknown };
  if (typeof seed !== "string" || !SHA256_HEX.test(seed)) return undefined;
  if (typeof iterations !== "number" || !Number.isInteger(iterations)) return undefined;
  if (iterations < 1 || iterations > MAX_ITERATIONS) return undefined;
  return { seed, iterations };
}

export class BrowserAgent {
  private socket: SocketLike | undefined;
  private node: PublicKeys | undefined;
  private readonly stop = new AbortController();
  private waitingForWork = false;
  private busy = false;
  private inbox: Promise<void> = Promise.resolve();
  /** Wakes a paused agent early (conditionsChanged()). */
  private wake: () => void = () => undefined;
  /** Leases in progress → when this agent last renewed them plus the lease length (local clock). */
  private readonly held = new Map<string, { leaseMs: number; expiresAtMs: number }>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly o: AgentOptions) {}

  async start(): Promise<void> {
    this.o.onEvent({ type: "status", status: "connecting" });
    const info = (await (await fetch(`${this.o.nodeUrl}/v1/node`)).json()) as {
      id: string;
      ed25519PublicKey: string;
      mldsa44PublicKey: string;
    };
    this.node = {
      id: info.id,
      ed25519PublicKey: base64ToBytes(info.ed25519PublicKey),
      mldsa44PublicKey: base64ToBytes(info.mldsa44PublicKey),
    };
    // Start the worker and warm its JIT before the node starts the benchmark's clock.
    await this.o.executor.hash("00".repeat(32), WARM_UP_ITERATIONS, 1);
    let opened: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    const open = new Promise<void>((resolve, reject) => {
      opened = resolve;
      failed = reject;
    });
    this.socket = this.o.openSocket(`${this.o.nodeUrl.replace(/^http/, "ws")}/v1/devices/ws`, {
      onOpen: () => opened(),
      onError: () => failed(new Error("the device channel did not open")),
      onClose: (code, reason) => {
        if (this.stop.signal.aborted) return;
        this.o.onEvent({
          type: "status",
          status: "error",
          detail: `the node closed the channel (${code}${reason ? `: ${reason}` : ""})`,
        });
      },
      // Frames are handled one at a time, in order.
      onMessage: (text) => {
        this.inbox = this.inbox
          .then(() => this.onFrame(text))
          .catch((error: unknown) => this.fail(error));
      },
    });
    await open;
    const fingerprint = bytesToHex(await sha256(new TextEncoder().encode(this.o.fingerprintText)));
    await this.send("device.register", {
      ed25519PublicKey: bytesToBase64(this.o.identity.ed25519PublicKey),
      mldsa44PublicKey: bytesToBase64(this.o.identity.mldsa44PublicKey),
      owner: this.o.owner,
      deviceClass: this.o.deviceClass,
      fingerprint,
      geohash: this.o.geohash,
      cores: this.o.cores,
      memoryMiB: this.o.memoryMiB,
      agentVersion: "dashboard-0.2.0",
      // The node leases zk-groth16 only to a heavy-layer device (docs/protocol.md §Devices).
      taskTypes: ["hash", "zk-groth16"],
    });
  }

  /** Stops taking work and closes the channel; a lease in progress is abandoned (it re-queues). */
  close(): void {
    this.stop.abort();
    clearInterval(this.heartbeat);
    this.wake();
    this.o.executor.close();
    this.socket?.close();
    this.o.onEvent({ type: "status", status: "stopped" });
  }

  /**
   * Call when the pause conditions may have changed (tab shown or hidden, charger, settings): a
   * paused lease resumes at once, and an idle device shows the pause or asks for work again.
   */
  conditionsChanged(): void {
    this.wake();
    if (this.busy || this.node === undefined || this.stop.signal.aborted) return;
    const reason = this.o.pauseReason();
    if (reason !== undefined) this.o.onEvent({ type: "status", status: "paused", detail: reason });
    else if (this.waitingForWork) this.o.onEvent({ type: "status", status: "idle" });
    else void this.askForWork().catch((e: unknown) => this.fail(e));
  }

  private fail(error: unknown): void {
    if (this.stop.signal.aborted) return;
    this.o.onEvent({
      type: "status",
      status: "error",
      detail: error instanceof Error ? error.message : String(error),
    });
  }

  private async send(kind: string, body: unknown): Promise<void> {
    const envelope = await seal(this.o.identity, kind, body, Date.now());
    this.socket?.send(JSON.stringify(envelope));
  }

  private async askForWork(): Promise<void> {
    if (this.stop.signal.aborted) return;
    const reason = this.o.pauseReason();
    if (reason !== undefined) {
      this.o.onEvent({ type: "status", status: "paused", detail: reason });
      return;
    }
    this.waitingForWork = true;
    this.o.onEvent({ type: "status", status: "idle" });
    await this.send("device.ready", { slots: 1 });
  }

  /** Returns once the device may work; false if it was stopped meanwhile. */
  private async waitWhilePaused(): Promise<boolean> {
    let reason = this.o.pauseReason();
    if (reason === undefined) return !this.stop.signal.aborted;
    while (reason !== undefined && !this.stop.signal.aborted) {
      this.o.onEvent({ type: "status", status: "paused", detail: reason });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, PAUSE_POLL_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      reason = this.o.pauseReason();
    }
    this.wake = () => undefined;
    if (this.stop.signal.aborted) return false;
    this.o.onEvent({ type: "status", status: "working" });
    return true;
  }

  /** Renews the leases in progress, unless paused: a paused tab must not hold work forever. */
  private renewLeases(): void {
    if (this.held.size === 0 || this.o.pauseReason() !== undefined) return;
    const now = Date.now();
    for (const lease of this.held.values()) lease.expiresAtMs = now + lease.leaseMs;
    void this.send("device.heartbeat", { activeTaskIds: [...this.held.keys()] }).catch(
      (e: unknown) => this.fail(e),
    );
  }

  private async onFrame(text: string): Promise<void> {
    if (this.node === undefined || this.stop.signal.aborted) return;
    const { kind, body } = await openEnvelope(JSON.parse(text), this.node, Date.now());
    switch (kind) {
      case "node.challenge": {
        const c = body as { challengeId: string; seed: string; iterations: number };
        if (!SHA256_HEX.test(c.seed) || !(c.iterations >= 1 && c.iterations <= MAX_ITERATIONS))
          throw new Error("the node's challenge is malformed");
        this.o.onEvent({ type: "status", status: "benchmarking" });
        // At full speed: the benchmark measures the device, the CPU share applies to tasks.
        const started = performance.now();
        const digest = await this.o.executor.hash(c.seed, c.iterations, 1);
        await this.send("device.challenge-answer", {
          challengeId: c.challengeId,
          digest,
          elapsedMs: performance.now() - started,
        });
        return;
      }
      case "node.registered": {
        const r = body as { deviceClass: string; layer: string; benchmarkCuPerSec: number };
        this.o.onEvent({
          type: "registered",
          deviceClass: r.deviceClass,
          layer: r.layer,
          benchmarkCuPerSec: r.benchmarkCuPerSec,
        });
        await this.askForWork();
        return;
      }
      case "node.leases": {
        this.waitingForWork = false;
        this.busy = true;
        const { leases } = body as { leases: Lease[] };
        // Leases are worked one after another; all of them are renewed until done.
        const receivedAt = Date.now();
        for (const lease of leases) {
          const leaseMs = Math.max(0, lease.leaseExpiresAtMs - receivedAt);
          this.held.set(lease.taskId, { leaseMs, expiresAtMs: receivedAt + leaseMs });
        }
        this.heartbeat ??= setInterval(
          () => this.renewLeases(),
          this.o.heartbeatMs ?? HEARTBEAT_MS,
        );
        const results: TaskResult[] = [];
        for (const lease of leases) {
          if (this.stop.signal.aborted) return;
          const result = await this.runLease(lease).catch((error: unknown) => {
            if (!this.stop.signal.aborted)
              this.o.onEvent({
                type: "task-failed",
                taskId: lease.taskId,
                message: error instanceof Error ? error.message : String(error),
              });
            return undefined;
          });
          this.held.delete(lease.taskId);
          if (result !== undefined) results.push(result);
        }
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
        if (this.stop.signal.aborted) return;
        if (results.length > 0) {
          await this.send("device.results", { results });
          return; // the verdicts ask for more work
        }
        this.busy = false;
        await this.askForWork();
        return;
      }
      case "node.verdicts": {
        const { verdicts } = body as {
          verdicts: Array<{ taskId: string; accepted: boolean; reward: string; code?: string }>;
        };
        for (const v of verdicts) this.o.onEvent({ type: "verdict", ...v });
        this.busy = false;
        await this.askForWork();
        return;
      }
      case "node.error": {
        const e = body as { code?: string; message?: string };
        throw new Error(`${e.code ?? "node.error"}: ${e.message ?? "the node refused a message"}`);
      }
      default:
        return;
    }
  }

  /**
   * Runs one lease, item by item, holding the CPU share and waiting out pauses between items.
   * Throws (and so returns no result: the lease expires and the node re-queues it) on a malformed
   * lease, a failed computation, or a lease that expired while the tab was paused.
   */
  private async runLease(lease: Lease): Promise<TaskResult | undefined> {
    this.o.onEvent({
      type: "lease",
      taskId: lease.taskId,
      taskType: lease.type,
      items: lease.items.length,
    });
    if (lease.items.length === 0 || lease.items.length > MAX_LEASE_ITEMS)
      throw new Error(`a lease of ${lease.items.length} items is out of bounds`);
    const run = this.itemRunner(lease);
    if (!(await this.waitWhilePaused())) return undefined;
    this.o.onEvent({ type: "status", status: "working" });
    await run.prepare();
    let elapsedMs = 0;
    const outputs: unknown[] = [];
    for (const item of lease.items) {
      if (!(await this.waitWhilePaused())) return undefined;
      const held = this.held.get(lease.taskId);
      if (held !== undefined && Date.now() > held.expiresAtMs)
        throw new Error("the lease expired while this tab was paused; the node re-queues it");
      const started = performance.now();
      outputs.push(await run.item(item));
      const workMs = performance.now() - started;
      elapsedMs += workMs;
      // Hash items rest inside the worker, between slices; a proof is one piece of work.
      if (lease.type === "zk-groth16") await sleep(idleMsAfter(workMs, this.o.cpuShare()));
    }
    if (this.stop.signal.aborted) return undefined;
    this.o.onEvent({
      type: "task-done",
      taskId: lease.taskId,
      taskType: lease.type,
      items: outputs.length,
      elapsedMs,
    });
    return { taskId: lease.taskId, outputs, elapsedMs };
  }

  private itemRunner(lease: Lease): {
    prepare(): Promise<void>;
    item(item: unknown): Promise<unknown>;
  } {
    const executor = this.o.executor;
    switch (lease.type) {
      case "hash":
        return {
          prepare: async () => undefined,
          item: async (item) => {
            const valid = hashItem(item);
            if (valid === undefined) throw new Error("the node leased a malformed hash item");
            return {
              digest: await executor.hash(valid.seed, valid.iterations, this.o.cpuShare()),
            };
          },
        };
      case "zk-groth16": {
        const { wasm, zkey } = lease.artifacts;
        if (wasm === undefined || zkey === undefined)
          throw new Error("a zk-groth16 lease lacks its wasm or zkey");
        // The verification key is not fetched: proving does not need it, the node verifies.
        return {
          prepare: () => executor.prepare([wasm, zkey]),
          item: async (item) => {
            const input = circuitInput(item);
            if (input === undefined) throw new Error("the node leased a malformed circuit input");
            return executor.prove(input, wasm, zkey);
          },
        };
      }
      default:
        throw new Error(`this tab cannot run ${lease.type} tasks`);
    }
  }
}
