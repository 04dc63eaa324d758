import {
  open,
  parseEnvelope,
  identityFromSeeds as wireIdentity,
  seal as wireSeal,
} from "@dpn/wire";
import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  hexToBytes,
  identityFromSeeds,
  newSeeds,
  openEnvelope,
  seal,
} from "./envelope.ts";
import { iterateSha256 } from "./hashTask.ts";

describe("browser envelopes agree with @dpn/wire", () => {
  it("derives the same id and public keys from the same seeds", async () => {
    const seeds = newSeeds();
    const browser = await identityFromSeeds(seeds);
    const wire = wireIdentity(base64ToBytes(seeds.ed25519Seed), base64ToBytes(seeds.mldsa44Seed));
    expect(browser.id).toBe(wire.id);
    expect(bytesToHex(browser.ed25519PublicKey)).toBe(bytesToHex(wire.ed25519PublicKey));
    expect(bytesToHex(browser.mldsa44PublicKey)).toBe(bytesToHex(wire.mldsa44PublicKey));
  });

  it("seals messages that @dpn/wire opens, and opens messages @dpn/wire seals", async () => {
    const seeds = newSeeds();
    const browser = await identityFromSeeds(seeds);
    const nowMs = Date.now();
    const sealed = await seal(browser, "device.ready", { slots: 1 }, nowMs);
    const body = open(parseEnvelope(JSON.parse(JSON.stringify(sealed))), browser, {
      nowMs,
      policy: "hybrid",
    });
    expect(body).toEqual({ slots: 1 });

    const node = wireIdentity(
      base64ToBytes(newSeeds().ed25519Seed),
      base64ToBytes(newSeeds().mldsa44Seed),
    );
    const fromNode = JSON.parse(
      JSON.stringify(wireSeal(node, "node.leases", { leases: [] }, { nowMs })),
    );
    expect(await openEnvelope(fromNode, node, nowMs)).toEqual({
      kind: "node.leases",
      body: { leases: [] },
    });
  });

  it("refuses a message whose payload was changed, from another sender, or expired", async () => {
    const nowMs = Date.now();
    const node = await identityFromSeeds(newSeeds());
    const other = await identityFromSeeds(newSeeds());
    const sealed = await seal(node, "node.verdicts", { verdicts: [] }, nowMs);
    await expect(
      openEnvelope({ ...sealed, payload: '{"verdicts":[1]}' }, node, nowMs),
    ).rejects.toThrow(/signature does not verify/);
    await expect(openEnvelope(sealed, other, nowMs)).rejects.toThrow(/not the node/);
    await expect(openEnvelope(sealed, node, nowMs + 10 * 60_000)).rejects.toThrow(/time window/);
    await expect(openEnvelope("x", node, nowMs)).rejects.toThrow(/not an object/);
  });
});

describe("byte helpers and the hash task", () => {
  it("round-trips hex and base64", () => {
    const bytes = new Uint8Array([0, 1, 127, 128, 255]);
    expect(bytesToHex(bytes)).toBe("00017f80ff");
    expect(hexToBytes("00017f80ff")).toEqual(bytes);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    expect(() => hexToBytes("0g")).toThrow(/not hex/);
  });

  it("iterates SHA-256 over the seed's bytes like the node", async () => {
    const { createHash } = await import("node:crypto");
    const seed = "00".repeat(32);
    let d = Buffer.from(seed, "hex");
    for (let i = 0; i < 300; i++) d = createHash("sha256").update(d).digest();
    expect(await iterateSha256(seed, 300)).toBe(d.toString("hex"));
    expect(await iterateSha256(seed, 0)).toBe(seed);
  });
});
