import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { open, parseEnvelope, seal } from "../envelope.ts";
import { identityFromSeeds } from "../identity.ts";
import { openNodeFrame, sealDeviceFrame } from "./frames.ts";
import { EMPTY_REPLAY_MEMORY, type ReplayMemory, remember, replaySeen } from "./replayMemory.ts";

const seed = (label: string): Uint8Array => sha256(utf8ToBytes(label));
const NODE = identityFromSeeds(seed("frames-node/ed"), seed("frames-node/pq"));
const DEVICE = identityFromSeeds(seed("frames-device/ed"), seed("frames-device/pq"));
const NOW = 1_800_000_000_000;

const read = (text: string, replay: ReplayMemory = EMPTY_REPLAY_MEMORY) =>
  openNodeFrame(text, NODE, replay, { nowMs: NOW, notBeforeMs: NOW - 1000 });
const frame = (kind: string, body: unknown, nowMs = NOW, ttlMs = 60_000): string =>
  JSON.stringify(seal(NODE, kind, body, { nowMs, ttlMs }));

describe("openNodeFrame", () => {
  it("returns a verified node message with its validated body and remembers it", () => {
    const body = {
      challengeId: "c",
      seed: "ab".repeat(32),
      iterations: 10,
      lanes: 1,
      memoryMiB: 0,
    };
    const text = frame("node.challenge", body);
    const { message, replay } = read(text);
    expect(message).toEqual({ kind: "node.challenge", body });
    expect(replay.size).toBe(1);
    expect(EMPTY_REPLAY_MEMORY.size).toBe(0); // the memory is a value: the old one is unchanged
    expect(() => read(text, replay)).toThrow(
      expect.objectContaining({ code: "ENVELOPE_REPLAYED" }),
    );
  });

  it("names the first failed check and remembers nothing", () => {
    const lease = {
      taskId: "t",
      jobId: "j",
      type: "hash",
      leaseExpiresAtMs: NOW + 1000,
      artifacts: {},
      items: [{ seed: "zz", iterations: 1 }], // not a hash item: the kind's item schema says no
    };
    const cases: [string, string][] = [
      ["{", "DEVICE_FRAME_INVALID"],
      [JSON.stringify({ v: 2 }), "ENVELOPE_MALFORMED"],
      [frame("device.ready", { slots: 1 }), "DEVICE_FRAME_INVALID"], // not a node kind
      [frame("node.challenge", { challengeId: "c" }), "MESSAGE_INVALID"], // signed, wrong body
      [frame("node.leases", { leases: [lease] }), "MESSAGE_INVALID"],
      [frame("node.verdicts", { verdicts: [] }, NOW - 10 * 60_000), "ENVELOPE_EXPIRED"],
      // Still alive, but issued before the session started: a frame of an earlier session.
      [frame("node.verdicts", { verdicts: [] }, NOW - 60_000, 300_000), "ENVELOPE_NOT_YET_VALID"],
      [
        JSON.stringify(seal(DEVICE, "node.verdicts", { verdicts: [] }, { nowMs: NOW })),
        "ENVELOPE_BAD_SIGNATURE", // not from the pinned node
      ],
      ["x".repeat(4 * 1024 * 1024 + 1), "DEVICE_FRAME_INVALID"],
    ];
    for (const [text, code] of cases) {
      expect(() => read(text), code).toThrow(expect.objectContaining({ code }));
    }
  });
});

describe("the replay memory", () => {
  it("forgets a nonce once its frame has expired beyond the clock skew", () => {
    const nonce = "0f".repeat(16);
    const memory = remember(EMPTY_REPLAY_MEMORY, nonce, NOW + 60_000, NOW);
    expect(replaySeen(memory, nonce)).toBe(true);
    const later = remember(memory, "10".repeat(16), NOW + 200_000, NOW + 60_000 + 30_001);
    expect(replaySeen(later, nonce)).toBe(false);
    expect(later.size).toBe(1);
  });
});

describe("sealDeviceFrame", () => {
  it("signs a valid body so that the node can open it", () => {
    const envelope = parseEnvelope(
      JSON.parse(sealDeviceFrame(DEVICE, "device.ready", { slots: 2 }, NOW)),
    );
    expect(open(envelope, DEVICE, { nowMs: NOW })).toEqual({ slots: 2 });
  });

  it("refuses a body the node would refuse, and one larger than an envelope may carry", () => {
    expect(() => sealDeviceFrame(DEVICE, "device.ready", { slots: -1 }, NOW)).toThrow(
      expect.objectContaining({ code: "MESSAGE_INVALID" }),
    );
    const outputs = Array.from({ length: 20_000 }, () => ({ digest: "ab".repeat(32) }));
    expect(() =>
      sealDeviceFrame(
        DEVICE,
        "device.results",
        { results: [{ taskId: "t", outputs: outputs.slice(0, 10_000), elapsedMs: 1 }] },
        NOW,
      ),
    ).not.toThrow();
    expect(() =>
      sealDeviceFrame(
        DEVICE,
        "device.results",
        {
          results: [
            { taskId: "t", outputs: outputs.slice(0, 10_000), elapsedMs: 1 },
            { taskId: "u", outputs: outputs.slice(10_000), elapsedMs: 1 },
          ],
        },
        NOW,
      ),
    ).toThrow(expect.objectContaining({ code: "DEVICE_MESSAGE_TOO_LARGE" }));
  });
});
