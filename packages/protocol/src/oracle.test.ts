import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  aggregateOracle,
  type FeedReading,
  type OracleRound,
  oracleRound,
  pruneHistory,
} from "./oracle.ts";
import { errorCode } from "./testing.ts";

const HOUR = 3_600_000;
const now = 1_000 * HOUR;

function feeds(values: number[], atMs = now - 60_000): FeedReading[] {
  return values.map((value, i) => ({ feedId: `feed-${i}`, value, observedAtMs: atMs }));
}

/** A week of hourly rounds at a constant median. */
function steadyHistory(value: number, hours = 168): OracleRound[] {
  return Array.from({ length: hours }, (_, i) => ({
    atMs: now - (hours - i) * HOUR,
    median: value,
  }));
}

describe("oracle aggregation (§3.3)", () => {
  it("publishes the median of five feeds", () => {
    const result = aggregateOracle(
      feeds([0.149, 0.151, 0.15, 0.152, 0.148]),
      steadyHistory(0.15),
      now,
    );
    expect(result.status).toBe("median");
    expect(result.value).toBe(0.15);
  });

  it("ignores two wild feeds out of five", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.14, max: 0.16, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.double({ min: 1e-9, max: 1e9, noNaN: true }), { minLength: 2, maxLength: 2 }),
        (honest, wild) => {
          const result = aggregateOracle(feeds([...wild, ...honest]), steadyHistory(0.15), now);
          expect(result.value).toBeGreaterThanOrEqual(Math.min(...honest));
          expect(result.value).toBeLessThanOrEqual(Math.max(...honest));
        },
      ),
    );
  });

  it("drops stale, future and invalid readings, and refuses fewer than three live feeds", () => {
    const readings: FeedReading[] = [
      { feedId: "ok-1", value: 0.15, observedAtMs: now - 1000 },
      { feedId: "ok-2", value: 0.15, observedAtMs: now - 1000 },
      { feedId: "stale", value: 0.15, observedAtMs: now - 2 * HOUR },
      { feedId: "future", value: 0.15, observedAtMs: now + HOUR },
      { feedId: "nan", value: Number.NaN, observedAtMs: now },
    ];
    expect(errorCode(() => aggregateOracle(readings, [], now))).toBe("ORACLE_INSUFFICIENT_FEEDS");
    const withThird = [...readings, { feedId: "ok-3", value: 0.16, observedAtMs: now }];
    const result = aggregateOracle(withThird, [], now);
    expect(result.liveFeeds).toEqual(["ok-1", "ok-2", "ok-3"]);
    expect(result.rejected.map((r) => r.reason)).toEqual(["stale", "future", "invalid"]);
  });

  it("falls back to the 7-day average on a move of more than 25%, and not at 25%", () => {
    const history = steadyHistory(0.1);
    const jump = aggregateOracle(feeds([0.13, 0.13, 0.13, 0.13, 0.13]), history, now);
    expect(jump.status).toBe("fallback");
    expect(jump.value).toBeCloseTo(0.1, 12);
    const edge = aggregateOracle(feeds([0.125, 0.125, 0.125, 0.125, 0.125]), history, now);
    expect(edge.status).toBe("median");
    expect(edge.value).toBe(0.125);
  });

  it("falls back exactly when the move from the 7-day average exceeds 25% (property)", () => {
    const history = steadyHistory(0.1);
    fc.assert(
      fc.property(fc.double({ min: -0.9, max: 3, noNaN: true }), fc.boolean(), (move, up) => {
        const value = 0.1 * (1 + (up ? Math.abs(move) : -Math.min(Math.abs(move), 0.9)));
        const result = aggregateOracle(feeds([value, value, value, value, value]), history, now);
        const jump = Math.abs(value - 0.1) / 0.1;
        // Values within float rounding of the threshold may go either way.
        if (Math.abs(jump - 0.25) < 1e-9) return;
        expect(result.status).toBe(jump > 0.25 ? "fallback" : "median");
      }),
    );
  });

  it("accepts a lasting 30% move once it has entered the 7-day average", () => {
    let history = steadyHistory(0.1);
    let t = now;
    let acceptedAfterHours = -1;
    for (let hour = 0; hour < 168; hour++) {
      const result = aggregateOracle(feeds([0.13, 0.13, 0.13, 0.13, 0.13], t - 1000), history, t);
      history = pruneHistory([...history, result.round], t);
      if (result.status === "median") {
        acceptedAfterHours = hour;
        break;
      }
      t += HOUR;
    }
    // The mean reaches 0.13 / 1.25 = 0.104 after 0.004 / 0.03 × 168 ≈ 23 hourly rounds.
    expect(acceptedAfterHours).toBe(23);
  });

  it("rejects empty, duplicate and oversized feed lists", () => {
    expect(errorCode(() => aggregateOracle([], [], now))).toBe("ORACLE_NO_FEEDS");
    const dup = [...feeds([0.15]), ...feeds([0.15])];
    expect(errorCode(() => aggregateOracle(dup, [], now))).toBe("ORACLE_DUPLICATE_FEED");
    expect(errorCode(() => aggregateOracle(feeds(new Array(17).fill(0.15)), [], now))).toBe(
      "ORACLE_TOO_MANY_FEEDS",
    );
  });

  it("publishes a value between the smallest and largest live reading or the 7-day mean", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 16 }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        (values, past) => {
          const result = aggregateOracle(feeds(values), steadyHistory(past, 24), now);
          expect(Number.isFinite(result.value) && result.value > 0).toBe(true);
          if (result.status === "median") {
            expect(result.value).toBeGreaterThanOrEqual(Math.min(...values));
            expect(result.value).toBeLessThanOrEqual(Math.max(...values));
          } else {
            expect(Math.abs(result.value - past) / past).toBeLessThan(1e-12);
          }
        },
      ),
    );
  });
});

describe("oracle fallback: the last published price, held and marked stale", () => {
  const last = { value: 3.5e-5, atMs: now - 2 * HOUR };

  it("publishes the median of fresh feeds with age 0", () => {
    const outcome = oracleRound(feeds([2e-5, 3e-5, 5e-5, 4e-5]), [], last, now);
    expect(outcome.kind).toBe("published");
    expect(outcome.price).toEqual({
      value: (3e-5 + 4e-5) / 2, // the mean of the middle two
      status: "median",
      publishedAtMs: now,
      ageMs: 0,
      stale: false,
    });
  });

  it("holds the last published value, stale, with its age, when fewer than three feeds are fresh", () => {
    const readings: FeedReading[] = [
      { feedId: "fresh", value: 9e-5, observedAtMs: now - 1000 },
      { feedId: "old", value: 9e-5, observedAtMs: now - 2 * HOUR },
      { feedId: "garbage", value: Number.NaN, observedAtMs: now },
      { feedId: "fresh-2", value: 9e-5, observedAtMs: now },
    ];
    const outcome = oracleRound(readings, [], last, now);
    expect(outcome).toEqual({
      kind: "held",
      price: {
        value: 3.5e-5,
        status: "held",
        publishedAtMs: now - 2 * HOUR,
        ageMs: 2 * HOUR,
        stale: true,
      },
      live: 2,
      rejected: [
        { feedId: "old", reason: "stale" },
        { feedId: "garbage", reason: "invalid" },
      ],
    });
  });

  it("holds when no feed answered at all, and has no price before any quorum", () => {
    expect(oracleRound([], [], last, now).price?.ageMs).toBe(2 * HOUR);
    expect(oracleRound(feeds([1, 2]), [], undefined, now)).toMatchObject({
      kind: "held",
      price: undefined,
      live: 2,
    });
  });

  it("publishes exactly when a quorum of readings is fresh (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            value: fc.double({ min: 1e-9, max: 1e3, noNaN: true }),
            ageMs: fc.integer({ min: 0, max: 3 * HOUR }),
          }),
          { maxLength: 8 },
        ),
        (specs) => {
          const readings = specs.map((r, i) => ({
            feedId: `f${i}`,
            value: r.value,
            observedAtMs: now - r.ageMs,
          }));
          const fresh = specs.filter((r) => r.ageMs <= HOUR).length;
          const outcome = oracleRound(readings, [], last, now);
          expect(outcome.kind).toBe(fresh >= 3 ? "published" : "held");
          expect(outcome.price?.stale).toBe(fresh < 3);
          if (outcome.price?.stale) {
            expect(outcome.price.value).toBe(last.value);
          }
        },
      ),
    );
  });

  it("gives a last price stamped after now (a clock stepped back) age 0, and refuses a bad one", () => {
    expect(oracleRound([], [], { value: 1, atMs: now + HOUR }, now).price?.ageMs).toBe(0);
    expect(errorCode(() => oracleRound([], [], { value: 0, atMs: now }, now))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
  });
});
