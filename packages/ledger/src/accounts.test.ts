import { describe, expect, it } from "vitest";
import {
  accountKind,
  checkUserAccountId,
  isTransferable,
  MARKET_ACCOUNTS,
  mayGoNegative,
  SYSTEM_ACCOUNT_IDS,
  SYSTEM_ACCOUNTS,
  TREASURY_ACCOUNTS,
} from "./accounts.ts";
import { accountIn, assetOf, holderOf } from "./assets.ts";

describe("accounts", () => {
  it("names every system account under system: and lets only each asset's issuance go negative", () => {
    const issuance = new Set<string>([
      SYSTEM_ACCOUNTS.issuance,
      MARKET_ACCOUNTS.stableIssuance,
      MARKET_ACCOUNTS.sharesIssuance,
    ]);
    for (const id of SYSTEM_ACCOUNT_IDS) {
      expect(holderOf(id).startsWith("system:")).toBe(true);
      expect(accountKind(id)).toBe("system");
      expect(mayGoNegative(id)).toBe(issuance.has(id));
    }
    expect(accountKind("usd:owner:a")).toBe("owner");
    expect(assetOf("usd:owner:a")).toBe("USD");
    expect(assetOf("lp:device:x")).toBe("LP");
    expect(assetOf("owner:a")).toBe("DPN");
    expect(accountIn("USD", "owner:a")).toBe("usd:owner:a");
    expect(new Set(SYSTEM_ACCOUNT_IDS).size).toBe(SYSTEM_ACCOUNT_IDS.length);
  });

  it("allows transfers between users and treasuries only", () => {
    expect(isTransferable("owner:a")).toBe(true);
    expect(isTransferable("device:x")).toBe(true);
    for (const id of TREASURY_ACCOUNTS) expect(isTransferable(id)).toBe(true);
    for (const id of [
      SYSTEM_ACCOUNTS.issuance,
      SYSTEM_ACCOUNTS.burn,
      SYSTEM_ACCOUNTS.escrow,
      SYSTEM_ACCOUNTS.emissionPool,
      SYSTEM_ACCOUNTS.stake,
    ]) {
      expect(isTransferable(id)).toBe(false);
    }
  });

  it.each(["owner:", "alice", "owner: a", "system:escrow", "device:-x", 42])(
    "rejects %s as an account id",
    (id) => {
      expect(() => checkUserAccountId("account", id)).toThrow(
        expect.objectContaining({ code: "LEDGER_INVALID_ACCOUNT" }),
      );
    },
  );
});
