import { DpnError, isDpnError } from "@dpn/protocol";
import type { Lease, TaskResult } from "../channel.ts";
import {
  type Challenge,
  type SessionEffect,
  type SessionEvent,
  type SessionInput,
  type SessionState,
  step,
  type TimerName,
} from "./machine.ts";

/**
 * Runs the session machine (machine.ts) over a real connection: it carries out the effects —
 * sockets, timers, the identity fetch, the challenge and the tasks, which the shell supplies —
 * and turns what happens into inputs stamped with the clock. It holds no protocol logic of its
 * own. Inputs are handled one at a time, in order: one that arrives while effects are being
 * carried out (a synchronous task, say) waits its turn.
 */

/** The socket the driver needs: the browser's WebSocket and `ws`'s both fit. */
/** A solved capability challenge: every lane's digest and the memory probe's, and the time taken. */
export interface ChallengeSolution {
  readonly digests: readonly string[];
  readonly memoryDigest?: string;
  readonly elapsedMs: number;
}

export interface SocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed (the WebSocket standard's values). */
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drops the connection without the closing handshake. */
  terminate?(): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(
    type: "close",
    listener: (event: { readonly code: number; readonly reason: string }) => void,
  ): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
}

const OPEN = 1;
const CONNECTING = 0;
/** setTimeout fires at once beyond 2^31 − 1 ms; the machine re-arms a timer that fires early. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long stop() waits for the closing handshake before cutting the connection. */
const CLOSE_GRACE_MS = 1000;

export interface Timers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

type Immediate = (callback: () => void) => unknown;
const host = globalThis as { setImmediate?: Immediate; clearImmediate?: (id: unknown) => void };

/**
 * The platform's timers. A delay of 0 (the machine's flush) uses setImmediate where there is one
 * (Node), so results batched for a turn wait no extra millisecond.
 */
export const systemTimers: Timers = {
  set(callback, delayMs) {
    if (delayMs <= 0 && host.setImmediate !== undefined) {
      return { immediate: host.setImmediate(callback) };
    }
    return { timeout: setTimeout(callback, delayMs) };
  },
  clear(handle) {
    const h = handle as { immediate?: unknown; timeout?: ReturnType<typeof setTimeout> };
    if (h.immediate !== undefined) host.clearImmediate?.(h.immediate);
    else clearTimeout(h.timeout);
  },
};

/** What the shell supplies: where computation happens and what it hears. */
export interface SessionHost {
  openSocket(url: string): SocketLike;
  /** The capability benchmark: SHA-256 iterated from the seed, timed by the device. */
  solveChallenge(challenge: Challenge): Promise<ChallengeSolution>;
  /** Runs one leased task (absent for a session with slots: 0). */
  runTask?(lease: Lease, signal: AbortSignal): Promise<TaskResult>;
  /** GET `url` as text (default: fetch). */
  fetchText?(url: string, signal: AbortSignal): Promise<string>;
  /** Every event the machine reports, with the state after the step that reported it. */
  onEvent?(event: SessionEvent, state: SessionState): void;
}

export interface SessionDriverOptions extends SessionHost {
  readonly now?: () => number;
  readonly timers?: Timers;
  readonly closeGraceMs?: number;
}

/** An input as the driver takes it: the clock is read when the input's turn comes. */
export type UntimedInput = SessionInput extends infer I
  ? I extends SessionInput
    ? Omit<I, "nowMs">
    : never
  : never;

async function fetchText(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return response.text();
}

function messageOf(error: unknown): string {
  if (isDpnError(error)) return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}

export class SessionDriver {
  private current: SessionState;
  private connection: SocketLike | undefined;
  private readonly queue: UntimedInput[] = [];
  private busy = false;
  private readonly handles = new Map<TimerName, { handle: unknown }>();
  private readonly tasks = new Map<string, AbortController>();
  /** Aborts the identity fetch when stopping. */
  private readonly lifetime = new AbortController();
  private closeWaiters: (() => void)[] = [];
  private graceTimer: unknown;
  private readonly now: () => number;
  private readonly timers: Timers;

  constructor(
    session: SessionState,
    private readonly o: SessionDriverOptions,
  ) {
    this.current = session;
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? systemTimers;
  }

  get state(): SessionState {
    return this.current;
  }

  /** The current connection's socket, if any. */
  get socket(): SocketLike | undefined {
    return this.connection;
  }

  start(): void {
    this.input({ type: "start" });
  }

  /** While paused the device takes no new work and renews no lease. */
  pause(paused: boolean): void {
    this.input({ type: "paused", paused });
  }

  /**
   * Ends the session: tasks are aborted, timers cancelled, the socket closed. Resolves once the
   * socket has closed (or was cut after the grace period). Idempotent.
   */
  stop(): Promise<void> {
    this.lifetime.abort();
    this.input({ type: "stop" });
    if (this.connection === undefined) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /**
   * The escape hatch: sends a frame as it is, outside the machine (a test device that
   * misbehaves on purpose). False when no socket is open.
   */
  sendRaw(text: string): boolean {
    const socket = this.connection;
    if (socket === undefined || socket.readyState !== OPEN) return false;
    socket.send(text);
    return true;
  }

  /** Feeds one input to the machine and carries out its effects. */
  input(input: UntimedInput): void {
    this.queue.push(input);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const result = step(this.current, { ...next, nowMs: this.now() } as SessionInput);
        this.current = result.state;
        for (const effect of result.effects) this.apply(effect);
      }
    } finally {
      this.busy = false;
    }
  }

  private apply(effect: SessionEffect): void {
    switch (effect.type) {
      case "resolve-node":
        (this.o.fetchText ?? fetchText)(effect.url, this.lifetime.signal).then(
          (text) => this.input({ type: "node-identity", text }),
          (error: unknown) => this.input({ type: "node-unreachable", message: messageOf(error) }),
        );
        return;
      case "open-socket":
        this.open(effect.url);
        return;
      case "send": {
        const socket = this.connection;
        if (socket !== undefined && socket.readyState === OPEN) socket.send(effect.text);
        else this.input({ type: "send-failed", effect });
        return;
      }
      case "close":
        this.close(effect.code, effect.reason);
        return;
      case "schedule": {
        this.clearTimer(effect.timer);
        const token = { handle: undefined as unknown };
        token.handle = this.timers.set(
          () => {
            if (this.handles.get(effect.timer) !== token) return;
            this.handles.delete(effect.timer);
            this.input({ type: "timer", timer: effect.timer });
          },
          Math.min(effect.delayMs, MAX_TIMER_MS),
        );
        this.handles.set(effect.timer, token);
        return;
      }
      case "cancel":
        this.clearTimer(effect.timer);
        return;
      case "solve-challenge": {
        const { challengeId } = effect.challenge;
        this.o.solveChallenge(effect.challenge).then(
          (solution) => this.input({ type: "challenge-solved", challengeId, ...solution }),
          (error: unknown) => this.input({ type: "challenge-failed", challengeId, error }),
        );
        return;
      }
      case "run-task":
        this.run(effect.lease);
        return;
      case "abort-task": {
        const controller = this.tasks.get(effect.taskId);
        this.tasks.delete(effect.taskId);
        controller?.abort(new DpnError(effect.code, effect.message, { hint: effect.hint }));
        return;
      }
      case "report":
        this.o.onEvent?.(effect.event, this.current);
        return;
    }
  }

  private clearTimer(timer: TimerName): void {
    const token = this.handles.get(timer);
    if (token === undefined) return;
    this.handles.delete(timer);
    this.timers.clear(token.handle);
  }

  private run(lease: Lease): void {
    const { taskId } = lease;
    const controller = new AbortController();
    this.tasks.set(taskId, controller);
    const done = (): void => {
      if (this.tasks.get(taskId) === controller) this.tasks.delete(taskId);
    };
    let running: Promise<TaskResult>;
    try {
      if (this.o.runTask === undefined) throw new Error("this device runs no tasks");
      running = this.o.runTask(lease, controller.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (result) => {
        done();
        this.input({ type: "task-finished", result });
      },
      (error: unknown) => {
        done();
        this.input({ type: "task-failed", taskId, error });
      },
    );
  }

  private open(url: string): void {
    let socket: SocketLike;
    try {
      socket = this.o.openSocket(url);
    } catch (error) {
      this.input({ type: "closed", code: 1006, reason: messageOf(error) });
      return;
    }
    this.connection = socket;
    socket.addEventListener("open", () => {
      if (socket === this.connection) this.input({ type: "connected" });
    });
    socket.addEventListener("message", (event) => {
      if (socket !== this.connection) return;
      if (typeof event.data === "string") this.input({ type: "frame", text: event.data });
      else this.input({ type: "frame", text: "", binary: true });
    });
    // A close event always follows an error; reconnection happens there.
    socket.addEventListener("error", () => undefined);
    socket.addEventListener("close", (event) => {
      if (socket !== this.connection) return;
      this.closed(event.code, event.reason);
    });
  }

  private closed(code: number, reason: string): void {
    this.connection = undefined;
    if (this.graceTimer !== undefined) this.timers.clear(this.graceTimer);
    this.graceTimer = undefined;
    this.input({ type: "closed", code, reason });
    for (const wake of this.closeWaiters.splice(0)) wake();
  }

  private close(code: number, reason: string): void {
    const socket = this.connection;
    if (socket === undefined) return;
    if (socket.readyState === CONNECTING && socket.terminate !== undefined) socket.terminate();
    else socket.close(code, reason);
    this.graceTimer ??= this.timers.set(() => {
      this.graceTimer = undefined;
      if (socket !== this.connection) return;
      socket.terminate?.();
      this.closed(1006, "closing handshake timed out");
    }, this.o.closeGraceMs ?? CLOSE_GRACE_MS);
  }
}
