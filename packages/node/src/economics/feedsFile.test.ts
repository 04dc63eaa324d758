import { isDpnError } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { parseFeedsConfig } from "./feedsFile.ts";

function failure(text: string): string {
  try {
    parseFeedsConfig(text, "feeds.json");
  } catch (error) {
    return isDpnError(error) ? `${error.code} ${error.message}` : String(error);
  }
  return "accepted";
}

describe("the feeds file", () => {
  it("accepts both sections, or one (the other keeps the demo's feeds)", () => {
    const compute = [
      { kind: "clearing", id: "clearing" },
      { kind: "reference", id: "list", value: 1.2e-5 },
      { kind: "http-json", id: "h", url: "https://example.org/p.json", path: ["usd"] },
    ];
    expect(parseFeedsConfig(JSON.stringify({ compute }))).toEqual({ compute });
    const dpn = [{ kind: "amm-twap", id: "amm" }];
    expect(parseFeedsConfig(JSON.stringify({ dpn, compute }))).toEqual({ dpn, compute });
  });

  it("refuses a bad file with one code, naming the first bad field", () => {
    expect(failure("{not json")).toMatch(/^ORACLE_FEEDS_FILE_INVALID feeds.json: not JSON/);
    expect(failure(JSON.stringify({ compute: [{ kind: "amm-twap", id: "a" }] }))).toMatch(
      /^ORACLE_FEEDS_FILE_INVALID feeds.json: compute.0.kind: the compute-usd oracle takes/,
    );
    expect(failure(JSON.stringify({ dpn: [{ kind: "reference", id: "r", value: 0 }] }))).toMatch(
      /ORACLE_FEEDS_FILE_INVALID feeds.json: dpn.0.value/,
    );
    expect(
      failure(
        JSON.stringify({
          dpn: [
            { kind: "reference", id: "r", value: 1 },
            { kind: "reference", id: "r", value: 2 },
          ],
        }),
      ),
    ).toMatch(/dpn.1.id: duplicate id r/);
    expect(failure(JSON.stringify({ compute: [] }))).toMatch(/ORACLE_FEEDS_FILE_INVALID/);
    const echoes = [1, 2].map((n) => ({ kind: "clearing", id: `clearing-${n}` }));
    expect(failure(JSON.stringify({ compute: echoes }))).toMatch(
      /compute: at most 1 clearing feed/,
    );
    expect(failure(JSON.stringify({ prices: [] }))).toMatch(/ORACLE_FEEDS_FILE_INVALID/);
    expect(
      failure(
        JSON.stringify({ compute: [{ kind: "http-json", id: "h", url: "ftp://x", path: [] }] }),
      ),
    ).toMatch(/compute.0.url/);
  });
});
