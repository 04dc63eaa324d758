import type { Command } from "commander";
import { type CommonOptions, client, print } from "../context.ts";

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
          `prices      DPN ${s.prices.dpnPriceUsd.toFixed(5)} USD, compute ${s.prices.computePriceUsdPerCu} USD/CU (${s.prices.source})`,
          `inputs      circulation ${s.inputs.circulation} base units, demand ${s.inputs.demandCu.toFixed(2)} CU, rig share ${(s.inputs.rigShare * 100).toFixed(1)}%, long-tail ${(s.inputs.longTailShare * 100).toFixed(1)}%`,
          `burning     ${s.burning.level}, burn rate ${Number(s.burning.burnBps) / 100}% (utilisation ${s.burning.utilisation === null ? "- (no supply)" : `${(s.burning.utilisation * 100).toFixed(1)}%`})`,
          `epoch       ${new Date(s.atMs).toISOString()}`,
        ].join("\n"),
      );
    });
  economics
    .command("oracle")
    .description("the DPN/USD oracle's recent rounds")
    .option("--node <url>", "bank node URL")
    .option("--limit <n>", "rounds", "10")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions & { limit: string }) => {
      const { rounds } = await client(options, false).oracle({ limit: Number(options.limit) });
      print(options, rounds, () =>
        rounds
          .map(
            (r) =>
              `${new Date(r.atMs).toISOString()}  ${r.status.padEnd(8)} ${r.value?.toFixed(5) ?? "-"} (median ${r.median?.toFixed(5) ?? "-"}) live ${r.liveFeeds.length}${r.rejected.length > 0 ? `, rejected ${r.rejected.map((x) => `${x.feedId}:${x.reason}`).join(" ")}` : ""}`,
          )
          .join("\n"),
      );
    });
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
