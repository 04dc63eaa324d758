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
import { iterateSha256 } from "./hashTask.ts";

/**
 * A browser tab as a DPN device (issue 7, "Contribute this device"): registers over the device
 * channel (/v1/devices/ws) with its own keys, answers the benchmark challenge, then asks for hash
 * leases one at a time, computes them with WebCrypto and returns the results. Groth16 is not
 * offered yet, so the node sends this device low-value hash work only.
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
  /** Fraction of one core, (0, 1]. */
  readonly cpuShare: () => number;
  /** Whether to take more work now (false while the tab is hidden or on battery). */
  readonly mayWork: () => boolean;
  readonly openSocket: (url: string, handlers: SocketHandlers) => SocketLike;
  readonly onEvent: (event: AgentEvent) => void;
}

export type AgentEvent =
  | { readonly type: "status"; readonly status: AgentStatus; readonly detail?: string }
  | {
      readonly type: "registered";
      readonly deviceClass: string;
      readonly layer: string;
      readonly benchmarkCuPerSec: number;
    }
  | { readonly type: "lease"; readonly taskId: string; readonly items: number }
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
  readonly items: ReadonlyArray<{ seed: string; iterations: number }>;
}

/** Hash iterations per lease item accepted: the node's own bound is far above a tab's patience. */
const MAX_ITERATIONS = 100_000_000;

export class BrowserAgent {
  private socket: SocketLike | undefined;
  private node: PublicKeys | undefined;
  private readonly stop = new AbortController();
  private waitingForWork = false;
  private busy = false;
  private inbox: Promise<void> = Promise.resolve();

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
      agentVersion: "dashboard-0.1.0",
      taskTypes: ["hash"],
    });
  }

  /** Stops taking work and closes the channel; a lease in progress is abandoned (it re-queues). */
  close(): void {
    this.stop.abort();
    this.socket?.close();
    this.o.onEvent({ type: "status", status: "stopped" });
  }

  /** Call when mayWork() may have become true again (tab visible, charger plugged in). */
  resume(): void {
    if (!this.busy && !this.waitingForWork)
      void this.askForWork().catch((e: unknown) => this.fail(e));
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
    if (!this.o.mayWork()) {
      this.o.onEvent({ type: "status", status: "paused" });
      return;
    }
    this.waitingForWork = true;
    this.o.onEvent({ type: "status", status: "idle" });
    await this.send("device.ready", { slots: 1 });
  }

  private async onFrame(text: string): Promise<void> {
    if (this.node === undefined || this.stop.signal.aborted) return;
    const { kind, body } = await openEnvelope(JSON.parse(text), this.node, Date.now());
    switch (kind) {
      case "node.challenge": {
        const c = body as { challengeId: string; seed: string; iterations: number };
        this.o.onEvent({ type: "status", status: "benchmarking" });
        const started = performance.now();
        const digest = await iterateSha256(c.seed, c.iterations, { signal: this.stop.signal });
        await this.send("device.challenge-answer", {
          challengeId: c.challengeId,
          digest,
          elapsedMs: performance.now() - started,
        });
        return;
      }
      case "node.registered": {
        const r = body as { deviceClass: string; layer: string; benchmarkCuPerSec: number };
        this.o.onEvent({ type: "registered", ...r });
        await this.askForWork();
        return;
      }
      case "node.leases": {
        this.waitingForWork = false;
        this.busy = true;
        this.o.onEvent({ type: "status", status: "working" });
        const { leases } = body as { leases: Lease[] };
        const results = [];
        for (const lease of leases) {
          this.o.onEvent({ type: "lease", taskId: lease.taskId, items: lease.items.length });
          const started = performance.now();
          const outputs = [];
          for (const item of lease.items) {
            if (lease.type !== "hash" || item.iterations > MAX_ITERATIONS)
              throw new Error(`cannot run a ${lease.type} task`);
            const digest = await iterateSha256(item.seed, item.iterations, {
              cpuShare: this.o.cpuShare(),
              signal: this.stop.signal,
            });
            outputs.push({ digest });
          }
          results.push({ taskId: lease.taskId, outputs, elapsedMs: performance.now() - started });
        }
        await this.send("device.results", { results });
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
}
