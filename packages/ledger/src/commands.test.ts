import { describe, expect, it } from "vitest";
import { commandContent } from "./commands.ts";

describe("commandContent", () => {
  it("is canonical: sorted keys, decimal bigints, no time or configuration", () => {
    const content = commandContent({
      kind: "unstake",
      idempotencyKey: "k",
      atMs: 5,
      account: "owner:a",
      amount: 10n ** 30n,
      unbondingMs: 9,
    });
    expect(content).toBe(
      '{"account":"owner:a","amount":"1000000000000000000000000000000","kind":"unstake"}',
    );
  });
});
