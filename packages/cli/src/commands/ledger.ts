import type { Command } from "commander";
import { type CommonOptions, client, print } from "../context.ts";

export function ledgerCommand(program: Command): void {
  const ledger = program.command("ledger").description("the ledger's audit and supply");
  ledger
    .command("verify")
    .description("check the ledger's invariants (exit 1 if any fails)")
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const report = await client(options, false).ledgerVerify();
      print(
        options,
        report,
        () => `ledger verify: ${report.ok ? "OK" : "FAILED"}\n${JSON.stringify(report, null, 2)}`,
      );
      if (!report.ok) process.exitCode = 1;
    });
  ledger
    .command("supply")
    .description("issued, burned, outstanding and the pools")
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const supply = await client(options, false).supply();
      print(options, supply, () => JSON.stringify(supply, null, 2));
    });
}
