import { parseDpn } from "@dpn/protocol";
import type { Command } from "commander";
import { type CommonOptions, client, identity, print } from "../context.ts";

export function walletCommand(program: Command): void {
  const wallet = program.command("wallet").description("balances, history and transfers");
  wallet
    .command("balance [id]")
    .description("the DPN balance of an id (default: yours)")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file")
    .option("--json", "print the result as JSON", false)
    .action(async (id: string | undefined, options: CommonOptions) => {
      const result = await client(options, false).balance(id ?? identity(options).id);
      print(options, result, () => `${result.balance} DPN  ${result.id}`);
    });
  wallet
    .command("history [id]")
    .description("postings of an id, newest first")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file")
    .option("--cursor <cursor>", "continue from a previous page")
    .option("--json", "print the result as JSON", false)
    .action(async (id: string | undefined, options: CommonOptions & { cursor?: string }) => {
      const page = await client(options, false).history(id ?? identity(options).id, {
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      });
      print(options, page, () =>
        [
          ...page.entries.map(
            (e) => `#${e.seq}  ${e.kind.padEnd(16)} ${e.amount.padStart(24)}  → ${e.balanceAfter}`,
          ),
          page.nextCursor === null ? "" : `more: --cursor ${page.nextCursor}`,
        ].join("\n"),
      );
    });
  wallet
    .command("transfer")
    .description("send DPN to another id")
    .requiredOption("--to <id>", "recipient id (dpn_…)")
    .requiredOption("--amount <dpn>", "amount in DPN, e.g. 12.5")
    .option("--ref <ref>", "idempotency reference: retrying with the same ref never pays twice")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions & { to: string; amount: string; ref?: string }) => {
      parseDpn(options.amount);
      const result = await client(options, true).transfer(
        options.to,
        options.amount,
        options.ref ?? `cli-${Date.now()}`,
      );
      print(
        options,
        result,
        () => `sent ${options.amount} DPN to ${options.to} (posting #${result.seq})`,
      );
    });
}
