import { DpnError } from "@dpn/protocol";
import type { SpecOf } from "@dpn/wire";
import { describe, expect, it } from "vitest";
import { checkStatements, proofKey } from "./statement.ts";

const sha = "ab".repeat(32);
type ZkSpec = SpecOf<"zk-groth16">;

function spec(fields: Partial<ZkSpec>): ZkSpec {
  return {
    type: "zk-groth16",
    artifacts: { wasm: sha, zkey: sha, verificationKey: sha },
    publicInputs: ["c"],
    items: [{ c: "15" }],
    ...fields,
  };
}

/** The refusal `checkStatements` throws, or undefined when it accepts. */
function refusal(s: ZkSpec, nPublic: number): DpnError | undefined {
  try {
    checkStatements(s, nPublic);
    return undefined;
  } catch (error) {
    if (error instanceof DpnError) return error;
    throw error;
  }
}

describe("checkStatements", () => {
  it("accepts items told apart by their public inputs or by their expected signals", () => {
    expect(refusal(spec({ items: [{ c: "15" }, { c: "21" }] }), 1)).toBeUndefined();
    // Same public input, different expected outputs: each proof is pinned to its item.
    const items = [{ h0: "1" }, { h0: "1" }];
    const expectedPublicSignals = [
      ["7", "1"],
      ["8", "1"],
    ];
    expect(
      refusal(spec({ publicInputs: ["h0"], items, expectedPublicSignals }), 2),
    ).toBeUndefined();
    // One item binds nothing it could be confused with.
    expect(refusal(spec({ publicInputs: [], items: [{ a: "3" }] }), 1)).toBeUndefined();
  });

  it("refuses two items with one statement, naming the first pair, unless allowed", () => {
    const items = [{ c: "15" }, { c: "21" }, { c: "35" }, { c: "21" }];
    expect(refusal(spec({ items }), 1)).toMatchObject({
      code: "ZK_STATEMENT_UNBOUND",
      details: { items: [1, 3] },
    });
    const unnamed = spec({ publicInputs: [], items: [{ a: "3" }, { a: "5" }] });
    expect(refusal(unnamed, 1)?.code).toBe("ZK_STATEMENT_UNBOUND");
    expect(refusal(spec({ items, allowUnboundItems: true }), 1)).toBeUndefined();
    // Arrays are compared as the values a proof carries, not as the item's JSON.
    const nested = [{ c: ["1", "2"] }, { c: ["1", "2"] }];
    expect(refusal(spec({ items: nested }), 2)?.code).toBe("ZK_STATEMENT_UNBOUND");
  });

  it("refuses what no proof of a circuit with nPublic signals can carry", () => {
    expect(
      refusal(spec({ publicInputs: ["a", "c"], items: [{ a: "3", c: "15" }] }), 1),
    ).toMatchObject({
      code: "ZK_PUBLIC_SIGNALS_MISMATCH",
      details: { publicInputValues: 2, nPublic: 1 },
    });
    expect(refusal(spec({ expectedPublicSignals: [["15", "15"]] }), 1)).toMatchObject({
      code: "ZK_PUBLIC_SIGNALS_MISMATCH",
      details: { expectedPublicSignals: 2, nPublic: 1 },
    });
    expect(refusal(spec({ expectedPublicSignals: [["16"]] }), 1)?.code).toBe(
      "ZK_PUBLIC_SIGNALS_MISMATCH",
    );
    expect(refusal(spec({ expectedPublicSignals: [["15"]] }), 1)).toBeUndefined();
  });

  it("refuses expected signals not one per item, and a named input an item lacks", () => {
    const items = [{ c: "15" }, { c: "21" }];
    expect(refusal(spec({ items, expectedPublicSignals: [["15"]] }), 1)?.code).toBe("JOB_INVALID");
    expect(refusal(spec({ items: [{ c: "15" }, { a: "3" }] }), 1)).toMatchObject({
      code: "JOB_INVALID",
      details: { item: 1, input: "c" },
    });
  });
});

describe("proofKey", () => {
  it("is the proof's three points: equal for a copy, different when one coordinate differs", () => {
    const proof = {
      pi_a: ["1", "2", "1"],
      pi_b: [
        ["1", "2"],
        ["3", "4"],
        ["1", "0"],
      ],
      pi_c: ["5", "6", "1"],
    };
    expect(proofKey(structuredClone(proof))).toBe(proofKey(proof));
    expect(proofKey({ ...proof, pi_c: ["5", "7", "1"] })).not.toBe(proofKey(proof));
  });
});
