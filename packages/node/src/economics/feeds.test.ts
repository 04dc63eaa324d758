import { isDpnError } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { createFeed, type FeedConfig, governedFeed, randomWalkFeed } from "./feeds.ts";
import type { Market } from "./market.ts";

const context = { market: {} as Market };

function codeOf(config: unknown): string {
  try {
    createFeed(config as FeedConfig, context);
  } catch (error) {
    return isDpnError(error) ? error.code : String(error);
  }
  return "accepted";
}

describe("oracle feeds", () => {
  it("refuses an unknown kind and bad fields with a code", () => {
    expect(codeOf({ kind: "telepathy", id: "x" })).toBe("ORACLE_FEED_UNKNOWN");
    expect(codeOf({ kind: "governed", id: "BAD ID", value: 1 })).toBe("ORACLE_FEED_INVALID");
    expect(codeOf({ kind: "governed", id: "g", value: -1 })).toBe("ORACLE_FEED_INVALID");
    expect(codeOf({ kind: "http-json", id: "h", url: "file:///etc/passwd", path: [] })).toBe(
      "ORACLE_FEED_INVALID",
    );
    expect(codeOf({ kind: "governed", id: "g", value: 0.15 })).toBe("accepted");
  });

  it("walks a simulated price deterministically and keeps a governed value until it is set", async () => {
    const a = randomWalkFeed("sim", "seed", 0.15, 0.01);
    const b = randomWalkFeed("sim", "seed", 0.15, 0.01);
    const later = 3_600_000 * 48;
    await a.read(0);
    await b.read(0);
    const [va, vb] = [(await a.read(later)).value, (await b.read(later)).value];
    expect(va).toBe(vb);
    expect(va).not.toBe(0.15); // 48 hourly steps moved it
    expect(va).toBeGreaterThan(0);
    const governed = governedFeed("gov", 0.15);
    expect((await governed.read(10)).value).toBe(0.15);
    governed.set(0.2, 20);
    expect(await governed.read(30)).toEqual({ feedId: "gov", value: 0.2, observedAtMs: 20 });
  });
});
