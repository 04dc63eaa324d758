import { DpnError, parseDpn, SLIPPAGE_BPS_LIMIT } from "@dpn/protocol";
import type { MarketSwapBody } from "@dpn/sdk";
import type { Command } from "commander";
import { type CommonOptions, client, print } from "../context.ts";

const SIDES = ["sell-dpn", "buy-dpn"] as const;

function side(value: string): MarketSwapBody["side"] {
  if ((SIDES as readonly string[]).includes(value)) return value as MarketSwapBody["side"];
  throw new DpnError("CLI_INVALID_ARGUMENT", `Unknown side "${value}".`, {
    hint: "Use sell-dpn (pay DPN, get stable units) or buy-dpn (pay stable units, get DPN).",
  });
}

function amount(field: string, value: string): string {
  parseDpn(value); // throws a coded error for "abc", "-1", too many decimals
  if (parseDpn(value) === 0n) {
    throw new DpnError("CLI_INVALID_ARGUMENT", `${field} must be more than zero.`, {
      hint: 'Give an amount such as "12.5".',
    });
  }
  return value;
}

/** The guard in percent on the command line ("0.7"), in whole basis points on the wire. */
function slippageBps(percent: string): number {
  const value = Number(percent);
  const bps = Math.round(value * 100);
  if (
    !Number.isFinite(value) ||
    value < 0 ||
    bps > SLIPPAGE_BPS_LIMIT ||
    Math.abs(bps - value * 100) > 1e-9
  ) {
    throw new DpnError("CLI_INVALID_ARGUMENT", `--max-slippage ${percent} is out of range.`, {
      hint: `Give a percentage from 0 to ${SLIPPAGE_BPS_LIMIT / 100} with at most two decimals (the node's own maximum, shown by \`dpn market pool\`, may be lower); the default guard is 0.7 (§4.5).`,
    });
  }
  return bps;
}

export function marketCommand(program: Command): void {
  const market = program
    .command("market")
    .description("the DPN / stable-unit AMM pool: price, quotes, swaps, liquidity, the reserve");
  market
    .command("pool", { isDefault: true })
    .description("reserves, spot price and one-hour TWAP of the pool")
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const p = await client(options, false).pool();
      print(options, p, () =>
        [
          `pool        ${p.reserveDpn} DPN / ${p.reserveStable} USD (${p.totalShares} shares)`,
          `price       spot ${p.spotPrice ?? "-"} USD/DPN, TWAP ${p.twapPrice ?? "-"} (${p.twapWindowMs / 60_000} min), anchor ${p.anchorPriceUsd}`,
          `fees        ${p.feeBps / 100}% per swap, guard ${p.slippageBps / 100}% (at most ${p.maxSlippageBps / 100}%)`,
        ].join("\n"),
      );
    });
  market
    .command("quote <side> <amount>")
    .description("what a swap would pay now: side sell-dpn (amount in DPN) or buy-dpn (in USD)")
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (sideArg: string, amountArg: string, options: CommonOptions) => {
      const q = await client(options, false).quote(side(sideArg), amount("amount", amountArg));
      const [inUnit, outUnit] = q.side === "sell-dpn" ? ["DPN", "USD"] : ["USD", "DPN"];
      print(options, q, () =>
        [
          `${q.amountIn} ${inUnit} → ${q.amountOut} ${outUnit} (fee ${q.fee} ${inUnit})`,
          `price impact ${(q.priceImpact * 100).toFixed(4)}%, execution ${q.executionPrice.toFixed(6)} USD/DPN, spot ${q.spotPriceBefore} → ${q.spotPriceAfter}`,
        ].join("\n"),
      );
    });
  market
    .command("swap <side> <amount>")
    .description("swap through the pool; refused beyond the slippage guard")
    .option("--max-slippage <percent>", "widest price impact accepted, in percent (default 0.7)")
    .option("--min-out <amount>", "refuse unless at least this much comes out")
    .option("--ref <ref>", "idempotency reference: retrying with the same ref never trades twice")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file")
    .option("--json", "print the result as JSON", false)
    .action(
      async (
        sideArg: string,
        amountArg: string,
        options: CommonOptions & { maxSlippage?: string; minOut?: string; ref?: string },
      ) => {
        const body: MarketSwapBody = {
          side: side(sideArg),
          amountIn: amount("amount", amountArg),
          clientRef: options.ref ?? `cli-${Date.now()}`,
          ...(options.maxSlippage === undefined
            ? {}
            : { maxSlippageBps: slippageBps(options.maxSlippage) }),
          ...(options.minOut === undefined ? {} : { minAmountOut: options.minOut }),
        };
        const result = await client(options, true).swap(body);
        print(
          options,
          result,
          () => `swapped: DPN ${result.dpn}, USD ${result.stable} (posting #${result.seq})`,
        );
      },
    );
  const liquidity = market.command("liquidity").description("add or remove pool liquidity");
  liquidity
    .command("add <dpn> <usd>")
    .description("deposit DPN and stable units in the pool's ratio for shares")
    .option("--ref <ref>", "idempotency reference")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file")
    .option("--json", "print the result as JSON", false)
    .action(async (dpn: string, usd: string, options: CommonOptions & { ref?: string }) => {
      const result = await client(options, true).liquidity({
        action: "add",
        dpnAmount: amount("dpn", dpn),
        stableAmount: amount("usd", usd),
        clientRef: options.ref ?? `cli-${Date.now()}`,
      });
      print(
        options,
        result,
        () =>
          `added: DPN ${result.dpn}, USD ${result.stable}, shares +${result.shares} (posting #${result.seq})`,
      );
    });
  liquidity
    .command("remove <shares>")
    .description("burn pool shares (base units, see `dpn wallet balance`) for both tokens")
    .option("--ref <ref>", "idempotency reference")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file")
    .option("--json", "print the result as JSON", false)
    .action(async (shares: string, options: CommonOptions & { ref?: string }) => {
      if (!/^\d{1,78}$/.test(shares) || BigInt(shares) === 0n) {
        throw new DpnError(
          "CLI_INVALID_ARGUMENT",
          `shares "${shares}" is not a positive whole number.`,
          {
            hint: "Shares are whole base units; see poolShares in `dpn wallet balance --json`.",
          },
        );
      }
      const result = await client(options, true).liquidity({
        action: "remove",
        shares,
        clientRef: options.ref ?? `cli-${Date.now()}`,
      });
      print(
        options,
        result,
        () =>
          `removed: DPN ${result.dpn}, USD ${result.stable}, shares ${result.shares} (posting #${result.seq})`,
      );
    });
  market
    .command("reserve")
    .description(
      "the reserve's holdings, its anti-decoupling decisions (§4.3) and its interest buybacks (§4.2)",
    )
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const r = await client(options, false).reserve();
      print(options, r, () =>
        [
          `reserve     ${r.dpn} DPN, ${r.stable} USD, ${r.shares} pool shares`,
          ...r.buybacks
            .filter((b) => b.feeShares !== "0")
            .slice(0, 5)
            .map(
              (b) =>
                `${new Date(b.atMs).toISOString()}  interest ${b.interestDpn} DPN + ${b.interestStable} USD (${b.level})  burned ${b.dpnBurned} DPN  ${b.note}`,
            ),
          ...r.operations
            .slice(0, 10)
            .map(
              (o) =>
                `${new Date(o.atMs).toISOString()}  ${o.action.padEnd(8)} deviation ${o.deviation === null ? "-" : `${(o.deviation * 100).toFixed(2)}%`}  in ${o.amountIn} out ${o.amountOut}  ${o.note}`,
            ),
        ].join("\n"),
      );
    });
}
