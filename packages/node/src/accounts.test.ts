import { MAX_IDEMPOTENCY_KEY_LENGTH } from "@dpn/ledger";
import { MAX_CLIENT_REF_LENGTH, newIdentity } from "@dpn/wire";
import { describe, expect, it } from "vitest";
import { ledgerKey, type ReferencedOperation } from "./accounts.ts";

describe("ledgerKey", () => {
  it("fits the ledger's idempotency keys for every reference the schema admits", () => {
    const sender = newIdentity().id;
    const operations: ReferencedOperation[] = ["transfer", "swap", "liquidity"];
    for (const operation of operations) {
      const key = ledgerKey(operation, sender, "r".repeat(MAX_CLIENT_REF_LENGTH));
      expect(key.length).toBeLessThanOrEqual(MAX_IDEMPOTENCY_KEY_LENGTH);
    }
  });
});
