import type { PricesResponse, RateEpochResponse } from "@dpn/sdk";
import { type Command, Option } from "commander";
import { type CommonOptions, client, print } from "../context.ts";

type Quality = NonNullable<RateEpochResponse["prices"]["compute"]>;

/** "held 90 s, stale; simulated inputs": what a reader must know before trusting a price. */
function qualityText(quality: Quality | undefined): string {
  if (quality === undefined) return "";
  const parts: string[] = [quality.status];
  if (quality.stale) parts.push(`STALE, ${formatAge(quality.ageMs)} old`);
  if (quality.simulated) parts.push("SIMULATED inputs");
  return ` [${parts.join(", ")}]`;
}

function formatAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function oracleText(oracle: PricesResponse["oracles"][number]): string {
  const price = oracle.price;
  const head =
    price === null
      ? `${oracle.name.padEnd(12)} no price yet`
      : `${oracle.name.padEnd(12)} ${price.value.toPrecision(5)} ${oracle.unit} [${price.status}${price.stale ? `, STALE, ${formatAge(price.ageMs)} old` : ""}]${oracle.simulated ? " SIMULATED inputs" : ""}`;
  const feeds = oracle.feeds.map(
    (f) =>
      `  ${f.id.padEnd(24)} ${f.kind}${f.simulated ? "  (simulated: a seeded random walk)" : ""}`,
  );
  return [head, ...feeds].join("\n");
}

export function economicsCommand(program: Command): void {
  const economics = program
    .command("economics")
    .description("the exchange rate, its inputs, the oracle and the supply");
  economics
    .command("rate", { isDefault: true })
    .description("the exchange rate in force and what it was computed from")
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const s = await client(options, false).economics();
      print(options, s, () =>
        [
          `rate        ${s.rate.cuPerDpn.toFixed(2)} CU per DPN (anchor ${s.rate.anchorCuPerDpn.toFixed(2)} × S ${s.rate.supplyDemandFactor.toFixed(4)} × (1 + DI ${s.rate.discountIndex.toFixed(4)}))`,
          `factors     MSF ${s.rate.msf} for rigs, EHF ${s.rate.ehf} for long-tail devices`,
          `prices      DPN ${s.prices.dpnPriceUsd.toFixed(5)} USD${qualityText(s.prices.dpn)}, compute ${s.prices.computePriceUsdPerCu.toPrecision(5)} USD/CU${qualityText(s.prices.compute)}`,
          `source      ${s.prices.source}${s.prices.simulated === true ? " — some feeds are SIMULATED (dpn economics prices)" : ""}`,
          `inputs      circulation ${s.inputs.circulation} base units, demand ${s.inputs.demandCu.toFixed(2)} CU, rig share ${(s.inputs.rigShare * 100).toFixed(1)}%, long-tail ${(s.inputs.longTailShare * 100).toFixed(1)}%`,
          `burning     ${s.burning.level}, burn rate ${Number(s.burning.burnBps) / 100}% (utilisation ${s.burning.utilisation === null ? "- (no supply)" : `${(s.burning.utilisation * 100).toFixed(1)}%`})`,
          `epoch       ${new Date(s.atMs).toISOString()}`,
        ].join("\n"),
      );
    });
  economics
    .command("prices")
    .description(
      "both oracles: each price, whether it is stale, and each feed's kind (simulated ones labelled)",
    )
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const prices = await client(options, false).prices();
      print(options, prices, () =>
        [
          ...prices.oracles.map(oracleText),
          ...(prices.simulated
            ? ["some feeds are simulated: these prices are not market measurements"]
            : []),
        ].join("\n"),
      );
    });
  economics
    .command("oracle")
    .description("an oracle's recent rounds")
    .option("--node <url>", "bank node URL")
    .addOption(
      new Option("--oracle <name>", "which oracle")
        .choices(["dpn-usd", "compute-usd"])
        .default("dpn-usd"),
    )
    .option("--limit <n>", "rounds", "10")
    .option("--json", "print the result as JSON", false)
    .action(
      async (options: CommonOptions & { limit: string; oracle: "dpn-usd" | "compute-usd" }) => {
        const { rounds } = await client(options, false).oracle({
          limit: Number(options.limit),
          oracle: options.oracle,
        });
        print(options, rounds, () =>
          rounds
            .map(
              (r) =>
                `${new Date(r.atMs).toISOString()}  ${r.status.padEnd(8)} ${r.value?.toPrecision(5) ?? "-"} (median ${r.median?.toPrecision(5) ?? "-"})${r.stale === true ? ` STALE ${formatAge(r.ageMs ?? 0)} old` : ""} live ${r.liveFeeds.length}${r.rejected.length > 0 ? `, rejected ${r.rejected.map((x) => `${x.feedId}:${x.reason}`).join(" ")}` : ""}`,
            )
            .join("\n"),
        );
      },
    );
  economics
    .command("supply")
    .description("issued, burned, outstanding, pools and circulation")
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const supply = await client(options, false).economicsSupply();
      print(options, supply, () => JSON.stringify(supply, null, 2));
    });
}
