import { describe, expect, it } from "vitest";
import {
  accountIdError,
  formatBps,
  formatDpnAmount,
  formatNumber,
  formatPercent,
  formatProgress,
  formatTime,
  jobIdError,
  shortId,
  weiToDpn,
} from "./format.ts";

const ID = `dpn_${"0b8628".padEnd(40, "a")}`;

describe("formatDpnAmount", () => {
  it("groups thousands and truncates to six decimals without rounding up", () => {
    expect(formatDpnAmount("849.999658666666666667")).toBe("849.999658");
    expect(formatDpnAmount("1234567.5")).toBe("1,234,567.5");
    expect(formatDpnAmount("100000000", 0)).toBe("100,000,000");
  });

  it("drops trailing zeros and keeps zero as 0", () => {
    expect(formatDpnAmount("18.750000")).toBe("18.75");
    expect(formatDpnAmount("0")).toBe("0");
  });

  it("shows a dust amount as below the smallest shown unit rather than 0", () => {
    expect(formatDpnAmount("0.0000000711")).toBe("< 0.000001");
    expect(formatDpnAmount("0.0000000711", 9)).toBe("0.000000071");
  });

  it("keeps the sign and passes unparseable text through", () => {
    expect(formatDpnAmount("-12.5")).toBe("-12.5");
    expect(formatDpnAmount("n/a")).toBe("n/a");
  });
});

describe("weiToDpn", () => {
  it("converts 18-decimal base units exactly", () => {
    expect(weiToDpn("1000000000000000000000")).toBe("1000");
    expect(weiToDpn("341333333333333")).toBe("0.000341333333333333");
    expect(weiToDpn("100000000000000000000000000")).toBe("100000000");
    expect(weiToDpn("0")).toBe("0");
    expect(weiToDpn("-1500000000000000000")).toBe("-1.5");
  });

  it("passes non-integers through", () => {
    expect(weiToDpn("1.5")).toBe("1.5");
  });
});

describe("numbers, percentages and times", () => {
  it("formats significant digits, tiny values in exponent form, and non-finite as a dash", () => {
    expect(formatNumber(18750)).toBe("18,750");
    expect(formatNumber(0.28653295, 3)).toBe("0.287");
    expect(formatNumber(1.2e-5, 3)).toBe("1.20e-5");
    expect(formatNumber(Number.NaN)).toBe("—");
  });

  it("formats basis points and fractions as percentages", () => {
    expect(formatBps("8000")).toBe("80%");
    expect(formatBps(125)).toBe("1.25%");
    expect(formatPercent(0.525)).toBe("52.5%");
  });

  it("formats progress and UTC times", () => {
    expect(formatProgress(3, 8)).toBe("3 / 8 (38%)");
    expect(formatProgress(0, 0)).toBe("0 / 0 (0%)");
    expect(formatTime(0)).toBe("1970-01-01 00:00:00");
  });

  it("shortens long ids only", () => {
    expect(shortId(ID)).toBe(`${ID.slice(0, 10)}…${ID.slice(-6)}`);
    expect(shortId("job_1")).toBe("job_1");
  });
});

describe("accountIdError", () => {
  it("accepts dpn_ and 40 lower-case hex digits, trimming whitespace", () => {
    expect(accountIdError(ID)).toBeUndefined();
    expect(accountIdError(`  ${ID} `)).toBeUndefined();
  });

  it("names the specific defect", () => {
    expect(accountIdError("")).toMatch(/Enter an account id/);
    expect(accountIdError(`abc_${"0".repeat(40)}`)).toMatch(/must start with "dpn_"/);
    expect(accountIdError("dpn_xyz")).toMatch(/"x" is not a hex digit/);
    expect(accountIdError(`dpn_${"A".repeat(40)}`)).toMatch(/lower case/);
    expect(accountIdError("dpn_abc123")).toMatch(
      /has 6 hex digits after "dpn_"; it needs exactly 40/,
    );
    expect(accountIdError(`dpn_${"0".repeat(41)}`)).toMatch(/has 41 hex digits/);
  });
});

describe("jobIdError", () => {
  it("accepts job_ and 16 hex digits and explains anything else", () => {
    expect(jobIdError("job_9b06498691ea51d6")).toBeUndefined();
    expect(jobIdError("")).toMatch(/Enter a job id/);
    expect(jobIdError("job_xyz")).toMatch(/16 lower-case hex digits/);
  });
});
