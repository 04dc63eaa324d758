import {
  type CircuitInput,
  createSession,
  type HashItem,
  type Identity,
  type Lease,
  laneSeed,
  readAuthorization,
  SessionDriver,
  type SessionEvent,
  type SocketLike,
  type TaskResult,
} from "@dpn/wire";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { idleMsAfter } from "./dutyCycle.ts";
import type { Executor } from "./executor.ts";

/**
 * A browser tab as a DPN device (issue 7, "Contribute this device"): the shell around
 * @dpn/wire's device session (docs/adr/0013), which every DPN device runs — it registers over
 * the device channel (/v1/devices/ws) with the tab's own keys, answers the benchmark challenge,
 * opens every node frame with the same checks as any device (signatures, time window, replay
 * memory, schemas), renews leases and reconnects with backoff. The tab takes one lease at a
 * time. `hash` tasks and, when the node classified the tab heavy (docs/protocol.md §Devices),
 * `zk-groth16` tasks run on the executor — a Web Worker in the page, with snarkjs for the
 * proofs. The CPU share is a duty cycle (dutyCycle.ts); while the page says to pause (tab
 * hidden, on battery), no new work is taken, no lease is renewed and a lease in progress waits
 * between items.
 */
export interface AgentOptions {
  /** The node's base URL (http…); the socket goes to its /v1/devices/ws. */
  readonly nodeUrl: string;
  readonly identity: Identity;
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
  /** Opens the device channel: the browser's WebSocket in the page, `ws` in Node tests. */
  readonly openSocket: (url: string) => SocketLike;
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
      /** Why the node decided this class and layer (also after a reclassification). */
      readonly reason: string;
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

/** Renewal period of leases in progress; the node's lease is 120 s by default. */
export const HEARTBEAT_MS = 10_000;
/** While paused, how often the conditions are re-read (conditionsChanged() wakes it sooner). */
const PAUSE_POLL_MS = 1_000;
/** Iterations run once before registering, so the benchmark times a warm worker and JIT. */
const WARM_UP_ITERATIONS = 16_384;
const AGENT_VERSION = "dashboard-0.3.0";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How one lease's items are computed: artifacts first, then item by item. */
interface ItemRunner {
  readonly count: number;
  prepare(): Promise<void>;
  item(index: number): Promise<unknown>;
}

export class BrowserAgent {
  private driver: SessionDriver | undefined;
  private readonly stop = new AbortController();
  private registered = false;
  /** Wakes a paused lease early (conditionsChanged()). */
  private wake: () => void = () => undefined;

  constructor(private readonly o: AgentOptions) {}

  async start(): Promise<void> {
    this.o.onEvent({ type: "status", status: "connecting" });
    // Start the worker and warm its JIT before the node starts the benchmark's clock.
    await this.o.executor.hash("00".repeat(32), WARM_UP_ITERATIONS, 1);
    if (this.stop.signal.aborted) return;
    const session = createSession({
      nodeUrl: this.o.nodeUrl,
      identity: this.o.identity,
      register: {
        owner: this.o.owner,
        deviceClass: this.o.deviceClass,
        fingerprint: bytesToHex(sha256(utf8ToBytes(this.o.fingerprintText))),
        geohash: this.o.geohash,
        cores: this.o.cores,
        memoryMiB: this.o.memoryMiB,
        agentVersion: AGENT_VERSION,
        // The node leases zk-groth16 only to a heavy-layer device (docs/protocol.md §Devices).
        taskTypes: ["hash", "zk-groth16"],
      },
      // One lease at a time: the worker is one core, and its share is the user's to set.
      slots: 1,
      heartbeatMs: this.o.heartbeatMs ?? HEARTBEAT_MS,
      startedAtMs: Date.now(),
    });
    const executor = this.o.executor;
    this.driver = new SessionDriver(session, {
      openSocket: this.o.openSocket,
      // At full speed: the benchmark measures the device, the CPU share applies to tasks.
      // The tab offers one core (cores: 1), so one lane, then the memory probe on the same worker.
      async solveChallenge({ seed, iterations, lanes, memoryMiB }) {
        const started = performance.now();
        const digests: string[] = [];
        for (let lane = 0; lane < lanes; lane++) {
          digests.push(await executor.hash(laneSeed(seed, lane), iterations, 1));
        }
        const memoryDigest =
          memoryMiB === 0 ? undefined : await executor.memoryProbe(seed, memoryMiB);
        return {
          digests,
          ...(memoryDigest === undefined ? {} : { memoryDigest }),
          elapsedMs: performance.now() - started,
        };
      },
      runTask: (lease, signal) => this.runLease(lease, signal),
      onEvent: (event, state) => this.onSessionEvent(event, state.running.size),
    });
    this.driver.pause(this.o.pauseReason() !== undefined);
    this.driver.start();
  }

  /** Stops taking work and closes the channel; a lease in progress is abandoned (it re-queues). */
  close(): void {
    this.stop.abort();
    this.wake();
    this.o.executor.close();
    void this.driver?.stop();
    this.o.onEvent({ type: "status", status: "stopped" });
  }

  /**
   * Call when the pause conditions may have changed (tab shown or hidden, charger, settings): a
   * paused lease resumes at once, and an idle device shows the pause or asks for work again.
   */
  conditionsChanged(): void {
    this.wake();
    const driver = this.driver;
    if (driver === undefined || this.stop.signal.aborted) return;
    driver.pause(this.o.pauseReason() !== undefined);
    // A lease in progress shows its own pauses (waitWhilePaused).
    if (this.registered && driver.state.running.size === 0) this.showIdle();
  }

  private status(status: AgentStatus, detail?: string): void {
    if (this.stop.signal.aborted) return;
    this.o.onEvent(
      detail === undefined ? { type: "status", status } : { type: "status", status, detail },
    );
  }

  private showIdle(): void {
    const reason = this.o.pauseReason();
    if (reason === undefined) this.status("idle");
    else this.status("paused", reason);
  }

  private onSessionEvent(event: SessionEvent, running: number): void {
    if (this.stop.signal.aborted) return;
    switch (event.type) {
      case "connecting":
        this.status("connecting");
        return;
      case "connect-failed":
        this.status("error", `${event.message} (retrying)`);
        return;
      case "challenge":
        this.status("benchmarking");
        return;
      case "registered": {
        this.registered = true;
        const { deviceClass, layer, benchmarkCuPerSec, reason } = event.registration;
        this.o.onEvent({ type: "registered", deviceClass, layer, benchmarkCuPerSec, reason });
        this.showIdle();
        return;
      }
      case "reclassified": {
        const { deviceClass, layer, benchmarkCuPerSec, reason } = event.registration;
        this.o.onEvent({ type: "registered", deviceClass, layer, benchmarkCuPerSec, reason });
        return;
      }
      case "task-started":
        this.o.onEvent({
          type: "lease",
          taskId: event.lease.taskId,
          taskType: event.lease.type,
          items: event.lease.items.length,
        });
        this.status("working");
        return;
      case "task-finished":
        this.o.onEvent({
          type: "task-done",
          taskId: event.lease.taskId,
          taskType: event.lease.type,
          items: event.result.outputs.length,
          elapsedMs: event.result.elapsedMs,
        });
        if (running === 0) this.showIdle();
        return;
      case "task-failed":
        this.o.onEvent({ type: "task-failed", taskId: event.lease.taskId, message: event.message });
        if (running === 0) this.showIdle();
        return;
      case "task-abandoned":
        this.o.onEvent({
          type: "task-failed",
          taskId: event.lease.taskId,
          message: "the lease expired (a pause outlasted it); the node re-queues the task",
        });
        if (running === 0) this.showIdle();
        return;
      case "verdict": {
        const { taskId, accepted, reward, code } = event.verdict;
        this.o.onEvent({
          type: "verdict",
          taskId,
          accepted,
          reward,
          ...(code === undefined ? {} : { code }),
        });
        return;
      }
      case "node-error":
        this.status("error", `${event.code}: ${event.message}`);
        return;
      case "closed":
        this.registered = false;
        this.status(
          "error",
          `the node closed the channel (${event.code}${event.reason ? `: ${event.reason}` : ""})`,
        );
        return;
      default:
        return;
    }
  }

  /** Returns once the device may work; false if the lease was dropped or the agent stopped. */
  private async waitWhilePaused(signal: AbortSignal): Promise<boolean> {
    let reason = this.o.pauseReason();
    if (reason === undefined) return !signal.aborted;
    while (reason !== undefined && !signal.aborted) {
      this.status("paused", reason);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, PAUSE_POLL_MS);
        signal.addEventListener("abort", done);
        this.wake = done;
      });
      reason = this.o.pauseReason();
    }
    this.wake = () => undefined;
    if (signal.aborted) return false;
    this.status("working");
    return true;
  }

  /**
   * Runs one lease, item by item, holding the CPU share and waiting out pauses between items.
   * Rejects (and so returns no result: the lease expires and the node re-queues it) on a failed
   * computation or when the session dropped the lease (it expired during a pause, or stop).
   */
  private async runLease(lease: Lease, signal: AbortSignal): Promise<TaskResult> {
    const run = this.itemRunner(lease);
    const stopped = () => signal.reason ?? new Error("stopped");
    if (!(await this.waitWhilePaused(signal))) throw stopped();
    await run.prepare();
    let elapsedMs = 0;
    const outputs: unknown[] = [];
    for (let index = 0; index < run.count; index++) {
      if (!(await this.waitWhilePaused(signal))) throw stopped();
      const started = performance.now();
      outputs.push(await run.item(index));
      const workMs = performance.now() - started;
      elapsedMs += workMs;
      // Hash items rest inside the worker, between slices; a proof is one piece of work.
      if (lease.type === "zk-groth16") await sleep(idleMsAfter(workMs, this.o.cpuShare()));
    }
    if (signal.aborted) throw stopped();
    return { taskId: lease.taskId, outputs, elapsedMs };
  }

  /** The session takes only the kinds this tab offered, with items checked by their schemas. */
  private itemRunner(lease: Lease): ItemRunner {
    const executor = this.o.executor;
    switch (lease.type) {
      case "hash": {
        const items = lease.items as readonly HashItem[];
        return {
          count: items.length,
          prepare: async () => undefined,
          item: async (index) => {
            const { seed, iterations } = items[index] as HashItem;
            return { digest: await executor.hash(seed, iterations, this.o.cpuShare()) };
          },
        };
      }
      case "zk-groth16": {
        const items = lease.items as readonly CircuitInput[];
        const { wasm, zkey } = lease.artifacts;
        if (wasm === undefined || zkey === undefined)
          throw new Error("a zk-groth16 lease lacks its wasm or zkey");
        // The verification key is not fetched: proving does not need it, the node verifies.
        return {
          count: items.length,
          // Signed reads of the device's: the node sends private circuits only to a device
          // whose current lease needs them, and a token opens its one artifact for a minute.
          prepare: () =>
            executor.prepare([wasm, zkey], {
              [wasm]: readAuthorization(this.o.identity, `/v1/artifacts/${wasm}`, Date.now()),
              [zkey]: readAuthorization(this.o.identity, `/v1/artifacts/${zkey}`, Date.now()),
            }),
          item: (index) => executor.prove(items[index] as CircuitInput, wasm, zkey),
        };
      }
      default:
        throw new Error(`this tab cannot run ${lease.type} tasks`);
    }
  }
}
