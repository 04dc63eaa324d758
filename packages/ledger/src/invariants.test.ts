import { genesisAllocation, splitPayment } from "@dpn/protocol";
import fc from "fast-check";
import { expect, it } from "vitest";
import { describeStores } from "../test/stores.ts";
import { SYSTEM_ACCOUNTS as S } from "./accounts.ts";
import { minUnits } from "./amounts.ts";
import type { Ledger } from "./ledger.ts";

/**
 * Model-based property test: random operation sequences, submitted in concurrent groups (so
 * several land in one group-commit batch), run against the real ledger and against a plain
 * in-memory model of the rules. After every group the ledger must agree with the model on which
 * operations failed and with which code, and at the end on every balance, hold and stake; and
 * the audit must pass.
 */
const USERS = ["owner:a", "owner:b", "device:c"] as const;
const HOLDS = ["h0", "h1", "h2"] as const;
const CAP = 1_000_000n; // a small cap keeps amounts readable; the rules do not depend on size
const UNBONDING_MS = 50;

type Op =
  | { t: "transfer"; from: number; to: number; amount: bigint; fee: bigint }
  | { t: "burn"; from: number; amount: bigint }
  | { t: "mint"; to: number; amount: bigint; receipt: number }
  | { t: "place"; hold: number; from: number; amount: bigint; ttl: number }
  | { t: "capture"; hold: number; to: number; amount: bigint | null }
  | { t: "pay"; hold: number; amount: bigint | null; burnBps: bigint }
  | { t: "release"; hold: number }
  | { t: "expire"; hold: number }
  | { t: "stake"; who: number; amount: bigint }
  | { t: "unstake"; who: number; amount: bigint }
  | { t: "withdraw"; who: number }
  | { t: "slash"; who: number; amount: bigint }
  | { t: "replenish"; bps: bigint }
  | { t: "tick"; ms: number };

const amount = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 400n }) },
  { weight: 1, arbitrary: fc.constant(0n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 40_000n }) },
);
const user = fc.nat({ max: USERS.length - 1 });
const hold = fc.nat({ max: HOLDS.length - 1 });
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const op: fc.Arbitrary<Op> = fc.oneof(
  w(
    2,
    fc.record({
      t: fc.constant("transfer" as const),
      from: user,
      to: user,
      amount,
      fee: fc.bigInt({ min: 0n, max: 5n }),
    }),
  ),
  w(1, fc.record({ t: fc.constant("burn" as const), from: user, amount })),
  w(
    2,
    fc.record({ t: fc.constant("mint" as const), to: user, amount, receipt: fc.nat({ max: 20 }) }),
  ),
  w(
    4,
    fc.record({
      t: fc.constant("place" as const),
      hold,
      from: user,
      amount,
      ttl: fc.integer({ min: 1, max: 100 }),
    }),
  ),
  w(
    2,
    fc.record({
      t: fc.constant("capture" as const),
      hold,
      to: user,
      amount: fc.option(amount, { nil: null }),
    }),
  ),
  w(
    2,
    fc.record({
      t: fc.constant("pay" as const),
      hold,
      amount: fc.option(amount, { nil: null }),
      burnBps: fc.bigInt({ min: 0n, max: 9_700n }),
    }),
  ),
  w(1, fc.record({ t: fc.constant("release" as const), hold })),
  w(1, fc.record({ t: fc.constant("expire" as const), hold })),
  w(3, fc.record({ t: fc.constant("stake" as const), who: user, amount })),
  w(
    2,
    fc.record({
      t: fc.constant("unstake" as const),
      who: user,
      amount: fc.bigInt({ min: 1n, max: 150n }),
    }),
  ),
  w(2, fc.record({ t: fc.constant("withdraw" as const), who: user })),
  w(
    2,
    fc.record({
      t: fc.constant("slash" as const),
      who: user,
      amount: fc.bigInt({ min: 1n, max: 150n }),
    }),
  ),
  w(
    1,
    fc.record({ t: fc.constant("replenish" as const), bps: fc.bigInt({ min: 0n, max: 10_000n }) }),
  ),
  w(2, fc.record({ t: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 60 }) })),
);

/** The rules, written as plainly as possible. Returns the error code, or null on success. */
class Model {
  bal = new Map<string, bigint>();
  holds = new Map<string, { from: string; amount: bigint; expires: number; status: string }>();
  bonded = new Map<string, bigint>();
  unbonding: { id: number; who: string; amount: bigint; release: number }[] = [];
  receipts = new Set<number>();
  keys = new Set<string>();
  burnMark = 0n;
  nextId = 1;

  constructor() {
    const g = genesisAllocation(CAP);
    this.bal.set(S.issuance, -CAP);
    this.bal.set(S.emissionPool, g.miningEmission);
    this.bal.set(S.governanceFund, g.governanceFund);
    this.bal.set(S.reservePool, g.reservePool);
    this.bal.set(S.liquidity, g.liquidity);
    this.bal.set(S.contributors, g.contributors);
  }
  get(id: string): bigint {
    return this.bal.get(id) ?? 0n;
  }
  move(from: string, to: string, amount: bigint): void {
    this.bal.set(from, this.get(from) - amount);
    this.bal.set(to, this.get(to) + amount);
  }
  apply(o: Op, now: number): string | null {
    const u = (i: number): string => USERS[i] as string;
    const h = (i: number): string => HOLDS[i] as string;
    const openHold = (id: string, checkExpiry: boolean) => {
      const x = this.holds.get(id);
      if (x === undefined) return "LEDGER_UNKNOWN_HOLD";
      if (x.status === "captured") return "LEDGER_HOLD_ALREADY_CAPTURED";
      if (x.status === "released") return "LEDGER_HOLD_ALREADY_RELEASED";
      if (x.status === "expired" || (checkExpiry && now >= x.expires)) return "LEDGER_HOLD_EXPIRED";
      return x;
    };
    const pending = (who: string) => this.unbonding.filter((x) => x.who === who);
    switch (o.t) {
      case "transfer": {
        if (o.from === o.to) return "LEDGER_SAME_ACCOUNT";
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        if (this.get(u(o.from)) < o.amount + o.fee) return "LEDGER_INSUFFICIENT_FUNDS";
        this.move(u(o.from), u(o.to), o.amount);
        this.move(u(o.from), S.fees, o.fee);
        return null;
      }
      case "burn":
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        if (this.get(u(o.from)) < o.amount) return "LEDGER_INSUFFICIENT_FUNDS";
        this.move(u(o.from), S.burn, o.amount);
        return null;
      case "mint":
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        if (this.receipts.has(o.receipt)) return "LEDGER_RECEIPT_ALREADY_MINTED";
        if (this.get(S.emissionPool) < o.amount) return "LEDGER_MINT_EXCEEDS_POOL";
        this.receipts.add(o.receipt);
        this.move(S.emissionPool, u(o.to), o.amount);
        return null;
      case "place":
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        if (this.holds.has(h(o.hold))) return "LEDGER_HOLD_EXISTS";
        if (this.get(u(o.from)) < o.amount) return "LEDGER_INSUFFICIENT_FUNDS";
        this.holds.set(h(o.hold), {
          from: u(o.from),
          amount: o.amount,
          expires: now + o.ttl,
          status: "open",
        });
        this.move(u(o.from), S.escrow, o.amount);
        return null;
      case "capture":
      case "pay": {
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        const x = openHold(h(o.hold), true);
        if (typeof x === "string") return x;
        const take = o.amount ?? x.amount;
        if (take > x.amount) return "LEDGER_CAPTURE_EXCEEDS_HOLD";
        if (o.t === "capture") this.move(S.escrow, u(o.to), take);
        else {
          const split = splitPayment(take, o.burnBps);
          this.move(S.escrow, S.burn, split.burn);
          this.move(S.escrow, S.antiMonopolyFund, split.antiMonopolyFund);
          this.move(S.escrow, S.reservePool, split.reserve);
        }
        this.move(S.escrow, x.from, x.amount - take);
        x.status = "captured";
        return null;
      }
      case "release":
      case "expire": {
        const x = openHold(h(o.hold), false);
        if (typeof x === "string") return x;
        if (o.t === "expire" && now < x.expires) return "LEDGER_HOLD_NOT_EXPIRED";
        this.move(S.escrow, x.from, x.amount);
        x.status = o.t === "release" ? "released" : "expired";
        return null;
      }
      case "stake":
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        if (this.get(u(o.who)) < o.amount) return "LEDGER_INSUFFICIENT_FUNDS";
        this.move(u(o.who), S.stake, o.amount);
        this.bonded.set(u(o.who), (this.bonded.get(u(o.who)) ?? 0n) + o.amount);
        return null;
      case "unstake": {
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        const b = this.bonded.get(u(o.who)) ?? 0n;
        if (b < o.amount) return "LEDGER_INSUFFICIENT_STAKE";
        this.bonded.set(u(o.who), b - o.amount);
        this.unbonding.push({
          id: this.nextId++,
          who: u(o.who),
          amount: o.amount,
          release: now + UNBONDING_MS,
        });
        this.move(S.stake, S.unbonding, o.amount);
        return null;
      }
      case "withdraw": {
        const due = pending(u(o.who)).filter((x) => x.release <= now);
        if (due.length === 0) return "LEDGER_NOTHING_TO_WITHDRAW";
        const total = due.reduce((s, x) => s + x.amount, 0n);
        this.unbonding = this.unbonding.filter((x) => !due.includes(x));
        this.move(S.unbonding, u(o.who), total);
        return null;
      }
      case "slash": {
        if (o.amount === 0n) return "LEDGER_INVALID_AMOUNT";
        const b = this.bonded.get(u(o.who)) ?? 0n;
        const list = pending(u(o.who));
        if (b + list.reduce((s, x) => s + x.amount, 0n) < o.amount)
          return "LEDGER_INSUFFICIENT_STAKE";
        const fromBonded = minUnits(b, o.amount);
        this.bonded.set(u(o.who), b - fromBonded);
        this.move(S.stake, S.burn, fromBonded);
        let rest = o.amount - fromBonded;
        for (const x of [...list].reverse()) {
          const take = minUnits(x.amount, rest);
          x.amount -= take;
          rest -= take;
          this.move(S.unbonding, S.burn, take);
        }
        this.unbonding = this.unbonding.filter((x) => x.amount > 0n);
        return null;
      }
      case "replenish": {
        const burned = this.get(S.burn);
        const wanted = ((burned - this.burnMark) * o.bps) / 10_000n;
        const headroom = CAP - (-this.get(S.issuance) - burned);
        const amount = minUnits(wanted, headroom);
        if (amount === 0n) return "LEDGER_NOTHING_TO_REPLENISH";
        this.burnMark = burned;
        this.move(S.issuance, S.emissionPool, amount);
        return null;
      }
      case "tick":
        return null;
    }
  }
}

function run(ledger: Ledger, o: Op, key: string, nowMs: number): Promise<unknown> {
  const u = (i: number): string => USERS[i] as string;
  const h = (i: number): string => HOLDS[i] as string;
  switch (o.t) {
    case "transfer":
      return ledger.transfer({
        idempotencyKey: key,
        from: u(o.from),
        to: u(o.to),
        amount: o.amount,
        fee: o.fee,
        nowMs,
      });
    case "burn":
      return ledger.burn({ idempotencyKey: key, from: u(o.from), amount: o.amount, nowMs });
    case "mint":
      return ledger.mint({
        idempotencyKey: key,
        to: u(o.to),
        amount: o.amount,
        receiptId: `r${o.receipt}`,
        nowMs,
      });
    case "place":
      return ledger.placeHold({
        idempotencyKey: key,
        holdId: h(o.hold),
        from: u(o.from),
        amount: o.amount,
        expiresAtMs: nowMs + o.ttl,
        nowMs,
      });
    case "capture":
      return ledger.captureHold({
        idempotencyKey: key,
        holdId: h(o.hold),
        to: u(o.to),
        ...(o.amount === null ? {} : { amount: o.amount }),
        nowMs,
      });
    case "pay":
      return ledger.capturePayment({
        idempotencyKey: key,
        holdId: h(o.hold),
        burnBps: o.burnBps,
        ...(o.amount === null ? {} : { amount: o.amount }),
        nowMs,
      });
    case "release":
      return ledger.releaseHold({ idempotencyKey: key, holdId: h(o.hold), nowMs });
    case "expire":
      return ledger.expireHold({ idempotencyKey: key, holdId: h(o.hold), nowMs });
    case "stake":
      return ledger.stake({ idempotencyKey: key, account: u(o.who), amount: o.amount, nowMs });
    case "unstake":
      return ledger.unstake({ idempotencyKey: key, account: u(o.who), amount: o.amount, nowMs });
    case "withdraw":
      return ledger.withdrawUnbonded({ idempotencyKey: key, account: u(o.who), nowMs });
    case "slash":
      return ledger.slash({ idempotencyKey: key, account: u(o.who), amount: o.amount, nowMs });
    case "replenish":
      return ledger.replenishEmission({ idempotencyKey: key, recycleBps: o.bps, nowMs });
    case "tick":
      return Promise.resolve();
  }
}

describeStores("invariants over random operation sequences", (ctx) => {
  it("agree with the model, in groups that share a group commit, and pass the audit", async () => {
    const groups = fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), {
      minLength: 1,
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(groups, async (plan) => {
        const ledger = await ctx.open({ unbondingMs: UNBONDING_MS, verifyOnOpen: false });
        const model = new Model();
        await ledger.genesis({ idempotencyKey: "g", cap: CAP, nowMs: 0 });
        for (const id of USERS) await ledger.openAccount(id, { nowMs: 0 });
        for (const id of USERS) {
          await ledger.transfer({
            idempotencyKey: `fund-${id}`,
            from: S.contributors,
            to: id,
            amount: 20_000n,
            nowMs: 0,
          });
          model.move(S.contributors, id, 20_000n);
        }
        let now = 1;
        let n = 0;
        for (const group of plan) {
          const expected: (string | null)[] = [];
          const submitted: Promise<unknown>[] = [];
          for (const o of group) {
            if (o.t === "tick") now += o.ms;
            expected.push(model.apply(o, now));
            submitted.push(run(ledger, o, `op-${n++}`, now));
          }
          const settled = await Promise.allSettled(submitted);
          const got = settled.map((s) =>
            s.status === "fulfilled"
              ? null
              : ((s.reason as { code?: string }).code ?? String(s.reason)),
          );
          expect({ group, got }).toEqual({ group, got: expected });
        }
        for (const id of [...USERS, ...Object.values(S)])
          expect([id, await ledger.balance(id)]).toEqual([id, model.get(id)]);
        for (const [id, x] of model.holds) expect((await ledger.hold(id))?.status).toBe(x.status);
        for (const who of USERS) {
          const position = await ledger.stakeOf(who);
          expect(position.bonded).toBe(model.bonded.get(who) ?? 0n);
          expect(position.unbonding.map((x) => x.amount)).toEqual(
            model.unbonding.filter((x) => x.who === who).map((x) => x.amount),
          );
        }
        const report = await ledger.verify();
        expect(report.checks.filter((c) => !c.ok)).toEqual([]);
        await ledger.close();
      }),
      {
        seed: ctx.name === "sqlite" ? 20_240_601 : 20_240_602,
        numRuns: ctx.name === "sqlite" ? 60 : 12,
      },
    );
  });
});
