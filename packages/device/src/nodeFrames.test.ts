import { createHash } from "node:crypto";
import { identityFromSeeds, open, parseEnvelope, ReplayGuard, seal } from "@dpn/wire";
import { describe, expect, it } from "vitest";
import { readNodeFrame, sealDeviceMessage } from "./nodeFrames.ts";

const seed = (label: string): Uint8Array => createHash("sha256").update(label).digest();
const NODE = identityFromSeeds(seed("frames-node/ed"), seed("frames-node/pq"));
const DEVICE = identityFromSeeds(seed("frames-device/ed"), seed("frames-device/pq"));
const NOW = 1_800_000_000_000;

const read = (text: string, guard = new ReplayGuard()) =>
  readNodeFrame(text, NODE, guard, { nowMs: NOW, notBeforeMs: NOW - 1000 });
const frame = (kind: string, body: unknown, nowMs = NOW): string =>
  JSON.stringify(seal(NODE, kind, body, { nowMs }));

describe("readNodeFrame", () => {
  it("returns a verified node message with its validated body", () => {
    const body = { challengeId: "c", seed: "ab".repeat(32), iterations: 10 };
    expect(read(frame("node.challenge", body))).toEqual({ kind: "node.challenge", body });
  });

  it("names the first failed check", () => {
    const cases: [string, string][] = [
      ["{", "DEVICE_FRAME_INVALID"],
      [JSON.stringify({ v: 2 }), "ENVELOPE_MALFORMED"],
      [frame("device.ready", { slots: 1 }), "DEVICE_FRAME_INVALID"], // not a node kind
      [frame("node.challenge", { challengeId: "c" }), "MESSAGE_INVALID"], // signed, wrong body
      [frame("node.verdicts", { verdicts: [] }, NOW - 10 * 60_000), "ENVELOPE_EXPIRED"],
      [
        JSON.stringify(seal(DEVICE, "node.verdicts", { verdicts: [] }, { nowMs: NOW })),
        "ENVELOPE_BAD_SIGNATURE", // not from the pinned node
      ],
    ];
    for (const [text, code] of cases) {
      expect(() => read(text), code).toThrow(expect.objectContaining({ code }));
    }
  });

  it("refuses a replayed frame", () => {
    const guard = new ReplayGuard();
    const text = frame("node.verdicts", { verdicts: [] });
    read(text, guard);
    expect(() => read(text, guard)).toThrow(expect.objectContaining({ code: "ENVELOPE_REPLAYED" }));
  });
});

describe("sealDeviceMessage", () => {
  it("signs a valid body so that the node can open it", () => {
    const envelope = parseEnvelope(
      JSON.parse(sealDeviceMessage(DEVICE, "device.ready", { slots: 2 }, NOW)),
    );
    expect(open(envelope, DEVICE, { nowMs: NOW })).toEqual({ slots: 2 });
  });

  it("refuses a results message larger than an envelope may carry", () => {
    const outputs = Array.from({ length: 20_000 }, () => ({ digest: "ab".repeat(32) }));
    expect(() =>
      sealDeviceMessage(
        DEVICE,
        "device.results",
        { results: [{ taskId: "t", outputs: outputs.slice(0, 10_000), elapsedMs: 1 }] },
        NOW,
      ),
    ).not.toThrow();
    expect(() =>
      sealDeviceMessage(
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
