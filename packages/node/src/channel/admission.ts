import { DpnError } from "@dpn/protocol";
import {
  ERROR_BURST,
  ERRORS_PER_SEC,
  FRAME_BURST,
  FRAMES_PER_SEC,
  HANDSHAKE_TIMEOUT_MS,
  MAX_DEVICE_SOCKETS,
  MAX_HANDSHAKES_PER_ADDRESS,
  MAX_SOCKETS_PER_ADDRESS,
  UPGRADE_BURST,
  UPGRADES_PER_SEC,
} from "../limits.ts";
import { TokenBucket } from "../tokenBucket.ts";

/** The device channel's budgets (limits.ts gives each default and its reason; tests pass less). */
export interface ChannelLimits {
  readonly frameBurst: number;
  readonly framesPerSec: number;
  readonly errorBurst: number;
  readonly errorsPerSec: number;
  readonly handshakeTimeoutMs: number;
  readonly maxSockets: number;
  readonly maxSocketsPerAddress: number;
  readonly maxHandshakesPerAddress: number;
  readonly upgradeBurst: number;
  readonly upgradesPerSec: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = {
  frameBurst: FRAME_BURST,
  framesPerSec: FRAMES_PER_SEC,
  errorBurst: ERROR_BURST,
  errorsPerSec: ERRORS_PER_SEC,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  maxSockets: MAX_DEVICE_SOCKETS,
  maxSocketsPerAddress: MAX_SOCKETS_PER_ADDRESS,
  maxHandshakesPerAddress: MAX_HANDSHAKES_PER_ADDRESS,
  upgradeBurst: UPGRADE_BURST,
  upgradesPerSec: UPGRADES_PER_SEC,
};

/** Why an upgrade was refused, answered before any work: a coded error and when to retry. */
export interface Refusal {
  readonly error: DpnError;
  readonly retryAfterSec: number;
}

interface AddressState {
  sockets: number;
  handshakes: number;
  readonly upgrades: TokenBucket;
}

/**
 * Which upgrades become device sockets: a cap in total, and per remote address a cap on open
 * sockets, on sockets still registering, and a rate of new ones. Checked before the WebSocket
 * handshake, so a refused connection costs the node no signature and no challenge.
 */
export class Admission {
  private readonly addresses = new Map<string, AddressState>();
  private total = 0;

  constructor(private readonly limits: ChannelLimits) {}

  /** Admits a socket from `address` (counted as registering), or says why not. */
  admit(address: string, nowMs: number): Refusal | undefined {
    if (this.total >= this.limits.maxSockets) {
      return {
        error: new DpnError(
          "DEVICE_CHANNEL_BUSY",
          `The node has ${this.limits.maxSockets} device sockets open.`,
          { hint: "Retry after the retry-after header's seconds, or connect to another node." },
        ),
        retryAfterSec: 30,
      };
    }
    let state = this.addresses.get(address);
    if (state === undefined) {
      state = {
        sockets: 0,
        handshakes: 0,
        upgrades: new TokenBucket(this.limits.upgradeBurst, this.limits.upgradesPerSec, nowMs),
      };
      this.addresses.set(address, state);
    }
    const limit =
      state.sockets >= this.limits.maxSocketsPerAddress
        ? `${this.limits.maxSocketsPerAddress} device sockets`
        : state.handshakes >= this.limits.maxHandshakesPerAddress
          ? `${this.limits.maxHandshakesPerAddress} registrations in progress`
          : state.upgrades.take(nowMs)
            ? undefined
            : "opened device sockets faster than the node allows";
    if (limit !== undefined) {
      return {
        error: new DpnError("DEVICE_CHANNEL_ADDRESS_LIMIT", `This address has ${limit}.`, {
          hint: "Run fewer agents per address (one agent can take many slots), or retry later.",
        }),
        retryAfterSec: Math.max(1, Math.ceil(1 / this.limits.upgradesPerSec)),
      };
    }
    state.sockets += 1;
    state.handshakes += 1;
    this.total += 1;
    return undefined;
  }

  /** The socket from `address` completed registration. */
  registered(address: string): void {
    const state = this.addresses.get(address);
    if (state !== undefined) state.handshakes -= 1;
  }

  /** The socket from `address` closed; `registering` if it never completed registration. */
  closed(address: string, registering: boolean, nowMs: number): void {
    const state = this.addresses.get(address);
    if (state === undefined) return;
    state.sockets -= 1;
    if (registering) state.handshakes -= 1;
    this.total -= 1;
    if (state.sockets === 0 && state.upgrades.full(nowMs)) this.addresses.delete(address);
  }

  /** Forgets addresses with nothing open and a full bucket (their state is the default). */
  prune(nowMs: number): void {
    for (const [address, state] of this.addresses) {
      if (state.sockets === 0 && state.upgrades.full(nowMs)) this.addresses.delete(address);
    }
  }
}
