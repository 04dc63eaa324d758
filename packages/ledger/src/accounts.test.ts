import { describe, expect, it } from "vitest";
import {
  accountKind,
  checkUserAccountId,
  isTransferable,
  mayGoNegative,
  SYSTEM_ACCOUNT_IDS,
  SYSTEM_ACCOUNTS,
  TREASURY_ACCOUNTS,
} from "./accounts.ts";

describe("accounts", () => {
  it("names every system account under system: and lets only issuance go negative", () => {
    for (const id of SYSTEM_ACCOUNT_IDS) {
      expect(id.startsWith("system:")).toBe(true);
      expect(accountKind(id)).toBe("system");
      expect(mayGoNegative(id)).toBe(id === SYSTEM_ACCOUNTS.issuance);
    }
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
