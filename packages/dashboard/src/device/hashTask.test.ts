import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { iterateSha256 } from "./hashTask.ts";

describe("the tab's hash task", () => {
  it("iterates SHA-256 over the seed's bytes like the node", async () => {
    const seed = "00".repeat(32);
    let d = Buffer.from(seed, "hex");
    for (let i = 0; i < 300; i++) d = createHash("sha256").update(d).digest();
    expect(await iterateSha256(seed, 300)).toBe(d.toString("hex"));
    expect(await iterateSha256(seed, 0)).toBe(seed);
  });
});
