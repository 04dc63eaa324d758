import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { DpnError, isDpnError, type ProtocolParams } from "@dpn/protocol";
import {
  checkIssuedSince,
  DeviceChallengeAnswer,
  DeviceHeartbeat,
  DeviceReady,
  DeviceRegister,
  DeviceResults,
  type Envelope,
  type Identity,
  identityId,
  MAX_PAYLOAD_BYTES,
  open,
  type PublicIdentity,
  parseEnvelope,
  parseMessage,
  ReplayGuard,
  type SignaturePolicy,
  seal,
} from "@dpn/wire";
import { WebSocket, WebSocketServer } from "ws";
import { errorBody, statusOf } from "../api/httpErrors.ts";
import type { Bank } from "../bank.ts";
import { DEVICE_PING_MS } from "../limits.ts";
import type { DeviceSession } from "../scheduler/session.ts";
import type { NodeStore } from "../store/open.ts";
import { TokenBucket } from "../tokenBucket.ts";
import type { VerifyPool } from "../verify/pool.ts";
import { Admission, type ChannelLimits, DEFAULT_CHANNEL_LIMITS } from "./admission.ts";
import { batchedSender } from "./batchedSend.ts";
import { type Challenge, challengeShape, newChallenge } from "./challenge.ts";
import type { FingerprintSlots } from "./fingerprints.ts";
import { completeRegistration } from "./register.ts";

/**
 * The device channel (docs/protocol.md §Messages): one WebSocket per device, every frame a
 * signed envelope. register → challenge → answer → registered, then ready / leases / results /
 * verdicts / heartbeat. A bad frame never crashes the node and never changes state. The node pings
 * every socket (DEVICE_PING_MS) and closes one that does not answer, so a device that vanished
 * without a close frame loses its leases in time.
 *
 * What a frame may cost the node is bounded (docs/protocol.md §Threat model): connections are
 * admitted per address before the WebSocket handshake (admission.ts); each socket has a frame
 * budget and an error budget, and is closed with CLOSE_OVER_BUDGET when either runs out, its
 * queued frames dropped; the socket's frames are handled in order with a turn of the event loop
 * between them, so one socket cannot hold the loop; a frame that fails authentication (not an
 * envelope, a bad signature, a replay) gets no reply at all — a signed reply costs ~5 ms, the
 * attacker's frame nothing — and closes a socket that is not registered yet; a socket that does
 * not register within the handshake timeout is closed. Authenticated frames that are refused
 * still get a signed `node.error` with a code.
 */
export interface DeviceChannelOptions {
  readonly bank: Bank;
  readonly store: NodeStore;
  readonly verifyPool: VerifyPool;
  readonly identity: Identity;
  readonly params: ProtocolParams;
  readonly now: () => number;
  /** Messages issued before this instant are refused (the node's start). */
  readonly startedAtMs: number;
  readonly policy: SignaturePolicy;
  /** How often sockets are pinged (default DEVICE_PING_MS; tests pass less). */
  readonly pingMs?: number;
  /** SHA-256 iterations of the capability challenge (default CHALLENGE_ITERATIONS; tests pass less). */
  readonly challengeIterations?: number;
  /** The channel's budgets (default DEFAULT_CHANNEL_LIMITS; tests pass less). */
  readonly limits?: Partial<ChannelLimits>;
  /** Connected devices per hardware fingerprint (shared with the release endpoint). */
  readonly fingerprints: FingerprintSlots;
  readonly log: (level: "info" | "warn", message: string, data?: Record<string, unknown>) => void;
}

export const DEVICE_CHANNEL_PATH = "/v1/devices/ws";
/** A frame is one envelope; results of large batches stay well under this. */
const MAX_FRAME_BYTES = MAX_PAYLOAD_BYTES + 64 * 1024;

/**
 * Close codes the node uses (4000–4999 are the application's). The reason names the error code;
 * it is not signed, so a device shows it but does not act on it beyond reconnecting later.
 */
export const CLOSE_CODES = {
  /** A registration step was refused (a signed node.error said why). */
  registrationFailed: 4000,
  /** The node ended the session (a newer connection of the same device, say). */
  sessionEnded: 4001,
  /** A frame before registration failed authentication; no reply was signed. */
  unauthenticated: 4002,
  /** The socket spent its frame or error budget. */
  overBudget: 4008,
  /** The socket did not register within the handshake timeout. */
  handshakeTimeout: 4009,
  /** The device's owner released its hardware slot (POST /v1/devices/release). */
  released: 4010,
} as const;

type Phase =
  | { readonly name: "new" }
  | {
      readonly name: "challenged";
      readonly register: DeviceRegister;
      readonly identity: PublicIdentity;
      readonly challenge: Challenge;
    }
  | { readonly name: "active"; readonly identity: PublicIdentity; readonly session: DeviceSession };

/** A frame that passed authentication: a well-formed envelope, both signatures, fresh. */
interface Verified {
  readonly envelope: Envelope;
  readonly body: unknown;
  readonly identity: PublicIdentity;
}

export class DeviceChannel {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly replay = new ReplayGuard();
  private readonly alive = new WeakSet<WebSocket>();
  private readonly pinger: NodeJS.Timeout;
  private readonly limits: ChannelLimits;
  private readonly admission: Admission;

  constructor(private readonly o: DeviceChannelOptions) {
    this.limits = { ...DEFAULT_CHANNEL_LIMITS, ...o.limits };
    this.admission = new Admission(this.limits);
    this.wss.on("connection", (socket: WebSocket, address: string) => this.accept(socket, address));
    this.pinger = setInterval(() => this.ping(), o.pingMs ?? DEVICE_PING_MS);
    this.pinger.unref();
  }

  /** A socket that has not answered the previous ping is gone: close it; ping the others. */
  private ping(): void {
    this.admission.prune(this.o.now());
    for (const socket of this.wss.clients) {
      if (!this.alive.has(socket)) {
        socket.terminate();
        continue;
      }
      this.alive.delete(socket);
      socket.ping();
    }
  }

  /** Hook for the HTTP server's `upgrade` event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (request.url !== DEVICE_CHANNEL_PATH) {
      socket.destroy();
      return;
    }
    const address = request.socket.remoteAddress ?? "unknown";
    const refusal = this.admission.admit(address, this.o.now());
    if (refusal !== undefined) {
      // Answered in plain HTTP before the WebSocket handshake: no signature, no challenge.
      const body = JSON.stringify(errorBody(refusal.error));
      const status = statusOf(refusal.error);
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
          `Retry-After: ${refusal.retryAfterSec}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
      return;
    }
    socket.on("error", () => socket.destroy());
    let upgraded = false;
    // A socket that never finishes the WebSocket handshake must give its admission back.
    socket.once("close", () => {
      if (!upgraded) this.admission.closed(address, true, this.o.now());
    });
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      upgraded = true;
      this.wss.emit("connection", ws, address);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket, address: string): void {
    let phase: Phase = { name: "new" };
    // The fingerprint slot this socket holds, from device.register until it closes.
    let releaseSlot: (() => void) | undefined;
    let registering = true;
    // Set when the node closes the socket: frames still queued or arriving are dropped.
    let ended = false;
    const frames = new TokenBucket(this.limits.frameBurst, this.limits.framesPerSec, this.o.now());
    const errors = new TokenBucket(this.limits.errorBurst, this.limits.errorsPerSec, this.o.now());
    const end = (code: number, reason: string): void => {
      if (ended) return;
      ended = true;
      socket.close(code, reason.slice(0, 120));
    };
    const handshake = setTimeout(
      () => end(CLOSE_CODES.handshakeTimeout, "DEVICE_HANDSHAKE_TIMEOUT"),
      this.limits.handshakeTimeoutMs,
    );
    handshake.unref();
    this.alive.add(socket);
    socket.on("pong", () => this.alive.add(socket));
    // Frames are handled one at a time per device, in order.
    let queue: Promise<void> = Promise.resolve();
    const sendNow = (kind: string, body: unknown): void => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(seal(this.o.identity, kind, body, { nowMs: this.o.now() })));
      }
    };
    const send = batchedSender(sendNow);
    /** A refused frame: spends the error budget; only an authenticated frame gets a signed reply. */
    const refuse = (error: unknown, authenticated: boolean): void => {
      const known = isDpnError(error);
      if (!known) this.o.log("warn", "device frame failed", { error: String(error) });
      const code = known ? error.code : "NODE_INTERNAL";
      if (phase.name !== "active" && !authenticated) {
        end(CLOSE_CODES.unauthenticated, code);
        return;
      }
      if (!errors.take(this.o.now())) {
        end(CLOSE_CODES.overBudget, `DEVICE_FRAME_BUDGET: too many refused frames (last ${code})`);
        return;
      }
      if (authenticated) {
        send(
          "node.error",
          known
            ? { code: error.code, message: error.message }
            : { code: "NODE_INTERNAL", message: "internal error" },
        );
      }
      if (phase.name !== "active") end(CLOSE_CODES.registrationFailed, "registration failed");
    };
    socket.on("message", (data, isBinary) => {
      if (ended) return;
      // Spent before anything is parsed, so a flood costs the node a counter per frame.
      if (!frames.take(this.o.now())) {
        end(CLOSE_CODES.overBudget, "DEVICE_FRAME_BUDGET: frames sent faster than allowed");
        return;
      }
      queue = queue.then(async () => {
        // One frame per turn of the event loop: HTTP requests and other sockets interleave.
        await yieldToLoop();
        if (ended) return;
        let verified: Verified;
        try {
          if (isBinary)
            throw new DpnError("MESSAGE_INVALID", "Frames are JSON text.", {
              hint: "Send envelopes as text frames.",
            });
          verified = this.verifyFrame(
            data.toString(),
            phase.name === "new" ? undefined : phase.identity,
          );
        } catch (error) {
          refuse(error, false);
          return;
        }
        try {
          if (phase.name === "new") {
            // Reserved synchronously, before any await: the count and the admission are one step.
            releaseSlot = this.reserveSlot(verified, () =>
              end(CLOSE_CODES.released, "released by the device's owner"),
            );
          }
          phase = await this.onFrame(phase, verified, send, socket);
          if (phase.name === "active" && registering) {
            registering = false;
            clearTimeout(handshake);
            this.admission.registered(address);
          }
          this.alive.add(socket);
        } catch (error) {
          refuse(error, true);
        }
      });
    });
    socket.on("close", () => {
      clearTimeout(handshake);
      ended = true;
      this.admission.closed(address, registering, this.o.now());
      releaseSlot?.();
      // Only this connection's session: a newer one of the same device stays connected.
      if (phase.name === "active") {
        const { session } = phase;
        queue = queue
          .then(() => this.o.bank.disconnect(session))
          .catch((error: unknown) =>
            this.o.log("warn", "disconnect failed", { error: String(error) }),
          );
      }
    });
    socket.on("error", () => socket.terminate());
  }

  /** The fingerprint slot of a device.register frame (anything else is refused by onFrame). */
  private reserveSlot(verified: Verified, release: () => void): (() => void) | undefined {
    if (verified.envelope.kind !== "device.register") return undefined;
    const register = parseMessage(DeviceRegister, verified.body, "device.register");
    return this.o.fingerprints.reserve(
      register.fingerprint,
      verified.identity.id,
      register.owner,
      release,
    );
  }

  private verifyFrame(text: string, sender: PublicIdentity | undefined): Verified {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DpnError("ENVELOPE_MALFORMED", "The frame is not JSON.", {
        hint: "Send one envelope per frame, as JSON text.",
      });
    }
    const envelope = parseEnvelope(json);
    let identity = sender;
    if (identity === undefined) {
      // Registration carries the keys; the id must commit to them (identityId), so they cannot be swapped.
      const register = parseMessage(DeviceRegister, safeJson(envelope.payload), "device.register");
      identity = {
        id: envelope.from,
        ed25519PublicKey: new Uint8Array(Buffer.from(register.ed25519PublicKey, "base64")),
        mldsa44PublicKey: new Uint8Array(Buffer.from(register.mldsa44PublicKey, "base64")),
      };
      if (identityId(identity.ed25519PublicKey, identity.mldsa44PublicKey) !== envelope.from) {
        throw new DpnError("IDENTITY_INVALID", "The device id does not match its public keys.", {
          hint: "Derive the id from the two public keys (identityId).",
        });
      }
    }
    const now = this.o.now();
    const body = open(envelope, identity, {
      nowMs: now,
      policy: this.o.policy,
      notBeforeMs: this.o.startedAtMs,
    });
    if (envelope.from !== identity.id)
      throw new DpnError("ENVELOPE_BAD_SIGNATURE", "A frame came from another identity.");
    // A restart does not reopen a replay window (the nonce memory starts empty).
    checkIssuedSince(envelope.issuedAtMs, this.o.startedAtMs);
    this.replay.check(envelope.from, envelope.nonce, envelope.expiresAtMs, now);
    return { envelope, body, identity };
  }

  private async onFrame(
    phase: Phase,
    { envelope, body, identity }: Verified,
    send: (kind: string, body: unknown) => void,
    socket: WebSocket,
  ): Promise<Phase> {
    switch (phase.name) {
      case "new": {
        if (envelope.kind !== "device.register") throw unexpected(envelope.kind, "device.register");
        const register = parseMessage(DeviceRegister, body, "device.register");
        const challenge = newChallenge(
          this.o.now(),
          challengeShape(register, this.o.params.devices, this.o.challengeIterations),
        );
        send("node.challenge", {
          challengeId: challenge.challengeId,
          seed: challenge.seed,
          iterations: challenge.iterations,
          lanes: challenge.lanes,
          memoryMiB: challenge.memoryMiB,
        });
        return { name: "challenged", register, identity, challenge };
      }
      case "challenged": {
        if (envelope.kind !== "device.challenge-answer")
          throw unexpected(envelope.kind, "device.challenge-answer");
        const answer = parseMessage(DeviceChallengeAnswer, body, "device.challenge-answer");
        const { session, reply } = await completeRegistration(
          this.o,
          identity,
          phase.register,
          phase.challenge,
          answer,
          this.o.now(),
          {
            send: (kind: string, message: unknown) => send(kind, message),
            close: (reason: string) => socket.close(CLOSE_CODES.sessionEnded, reason.slice(0, 100)),
          } as Pick<DeviceSession, "send" | "close">,
        );
        // In the scheduler before the device hears it is registered: a job submitted the moment
        // the device knows counts it among the eligible devices. No lease goes out before the
        // device's first device.ready, which follows node.registered.
        await this.o.bank.connect(session);
        send("node.registered", reply);
        this.o.log("info", "device registered", {
          deviceId: identity.id,
          class: reply.deviceClass,
          cuPerSec: Number(reply.benchmarkCuPerSec.toFixed(2)),
        });
        if (socket.readyState !== WebSocket.OPEN) await this.o.bank.disconnect(session);
        return { name: "active", identity, session };
      }
      case "active": {
        const { session } = phase;
        switch (envelope.kind) {
          case "device.ready":
            this.o.bank.ready(session, parseMessage(DeviceReady, body, "device.ready").slots);
            break;
          case "device.results":
            await this.o.bank.onResults(
              session,
              parseMessage(DeviceResults, body, "device.results").results,
            );
            break;
          case "device.heartbeat":
            await this.o.bank.heartbeat(
              session,
              parseMessage(DeviceHeartbeat, body, "device.heartbeat").activeTaskIds,
            );
            break;
          default:
            throw unexpected(envelope.kind, "device.ready, device.results or device.heartbeat");
        }
        return phase;
      }
    }
  }
}

function unexpected(kind: string, expected: string): DpnError {
  return new DpnError(
    "MESSAGE_UNEXPECTED",
    `A ${kind} message is not expected now; expected ${expected}.`,
    {
      hint: "Follow the device protocol: register, answer the challenge, then ready/results/heartbeat.",
    },
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
