import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { DpnError, isDpnError, type ProtocolParams } from "@dpn/protocol";
import {
  DeviceChallengeAnswer,
  DeviceHeartbeat,
  DeviceReady,
  DeviceRegister,
  DeviceResults,
  type Envelope,
  type Identity,
  identityId,
  MAX_LEASES_PER_FRAME,
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
import type { Bank } from "../bank.ts";
import { DEVICE_PING_MS } from "../limits.ts";
import type { DeviceSession } from "../scheduler/session.ts";
import type { NodeStore } from "../store/open.ts";
import type { VerifyPool } from "../verify/pool.ts";
import { type Challenge, newChallenge } from "./challenge.ts";
import { checkFingerprintQuota, completeRegistration } from "./register.ts";

/**
 * The device channel (docs/protocol.md §Messages): one WebSocket per device, every frame a
 * signed envelope. register → challenge → answer → registered, then ready / leases / results /
 * verdicts / heartbeat. A bad frame gets a `node.error` with a code; it never crashes the node
 * and never changes state. The node pings every socket (DEVICE_PING_MS) and closes one that does
 * not answer, so a device that vanished without a close frame loses its leases in time.
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
  readonly log: (level: "info" | "warn", message: string, data?: Record<string, unknown>) => void;
}

export const DEVICE_CHANNEL_PATH = "/v1/devices/ws";
/** A frame is one envelope; results of large batches stay well under this. */
const MAX_FRAME_BYTES = MAX_PAYLOAD_BYTES + 64 * 1024;

type Phase =
  | { readonly name: "new" }
  | {
      readonly name: "challenged";
      readonly register: DeviceRegister;
      readonly identity: PublicIdentity;
      readonly challenge: Challenge;
    }
  | { readonly name: "active"; readonly identity: PublicIdentity; readonly session: DeviceSession };

export class DeviceChannel {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly replay = new ReplayGuard();
  private readonly alive = new WeakSet<WebSocket>();
  private readonly pinger: NodeJS.Timeout;

  constructor(private readonly o: DeviceChannelOptions) {
    this.wss.on("connection", (socket) => this.accept(socket));
    this.pinger = setInterval(() => this.ping(), o.pingMs ?? DEVICE_PING_MS);
    this.pinger.unref();
  }

  /** A socket that has not answered the previous ping is gone: close it; ping the others. */
  private ping(): void {
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
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit("connection", ws, request));
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    let phase: Phase = { name: "new" };
    this.alive.add(socket);
    socket.on("pong", () => this.alive.add(socket));
    // Frames are handled one at a time per device, in order.
    let queue: Promise<void> = Promise.resolve();
    const sendNow = (kind: string, body: unknown): void => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(seal(this.o.identity, kind, body, { nowMs: this.o.now() })));
      }
    };
    // Leases and verdicts produced in the same turn of the event loop share one frame: every
    // frame costs an ML-DSA-44 signature (~5 ms), the node's largest cost per task.
    const batched = new Map<"node.leases" | "node.verdicts", unknown[]>();
    const flush = (): void => {
      for (const [kind, items] of batched) {
        sendNow(kind, kind === "node.leases" ? { leases: items } : { verdicts: items });
      }
      batched.clear();
    };
    const send = (kind: string, body: unknown): void => {
      if (kind !== "node.leases" && kind !== "node.verdicts") {
        sendNow(kind, body);
        return;
      }
      const items =
        kind === "node.leases"
          ? (body as { leases: unknown[] }).leases
          : (body as { verdicts: unknown[] }).verdicts;
      const pending = batched.get(kind);
      if (pending !== undefined && pending.length + items.length <= MAX_LEASES_PER_FRAME) {
        pending.push(...items);
        return;
      }
      if (pending !== undefined)
        sendNow(kind, kind === "node.leases" ? { leases: pending } : { verdicts: pending });
      if (batched.size === 0) setImmediate(flush);
      batched.set(kind, [...items]);
    };
    const fail = (error: unknown): void => {
      const known = isDpnError(error);
      if (!known) this.o.log("warn", "device frame failed", { error: String(error) });
      send(
        "node.error",
        known
          ? { code: error.code, message: error.message }
          : { code: "NODE_INTERNAL", message: "internal error" },
      );
    };
    socket.on("message", (data, isBinary) => {
      queue = queue.then(async () => {
        try {
          if (isBinary)
            throw new DpnError("MESSAGE_INVALID", "Frames are JSON text.", {
              hint: "Send envelopes as text frames.",
            });
          phase = await this.onFrame(phase, data.toString(), send, socket);
          this.alive.add(socket);
        } catch (error) {
          fail(error);
          if (phase.name !== "active") socket.close(4000, "registration failed");
        }
      });
    });
    socket.on("close", () => {
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

  private verifyFrame(
    text: string,
    sender: PublicIdentity | undefined,
  ): { envelope: Envelope; body: unknown; identity: PublicIdentity } {
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
    this.replay.check(envelope.from, envelope.nonce, envelope.expiresAtMs, now);
    return { envelope, body, identity };
  }

  private async onFrame(
    phase: Phase,
    text: string,
    send: (kind: string, body: unknown) => void,
    socket: WebSocket,
  ): Promise<Phase> {
    const { envelope, body, identity } = this.verifyFrame(
      text,
      phase.name === "new" ? undefined : phase.identity,
    );
    if (envelope.from !== identity.id)
      throw new DpnError("ENVELOPE_BAD_SIGNATURE", "A frame came from another identity.");
    switch (phase.name) {
      case "new": {
        if (envelope.kind !== "device.register") throw unexpected(envelope.kind, "device.register");
        const register = parseMessage(DeviceRegister, body, "device.register");
        await checkFingerprintQuota(this.o, identity, register);
        const challenge = newChallenge(this.o.now());
        send("node.challenge", {
          challengeId: challenge.challengeId,
          seed: challenge.seed,
          iterations: challenge.iterations,
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
            close: (reason: string) => socket.close(4001, reason.slice(0, 100)),
          } as Pick<DeviceSession, "send" | "close">,
        );
        send("node.registered", reply);
        await this.o.bank.connect(session);
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
