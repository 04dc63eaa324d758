#!/usr/bin/env -S npx tsx
import { isDpnError } from "@dpn/protocol";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { demoCommand } from "./commands/demo.ts";
import { devicesCommand } from "./commands/devices.ts";
import { economicsCommand } from "./commands/economics.ts";
import { example } from "./commands/example.ts";
import { jobCommand } from "./commands/job.ts";
import { keysCommand } from "./commands/keys.ts";
import { ledgerCommand } from "./commands/ledger.ts";
import { marketCommand } from "./commands/market.ts";
import { nodeCommand } from "./commands/node.ts";
import { simCommand } from "./commands/sim.ts";
import { walletCommand } from "./commands/wallet.ts";
import { workerCommand } from "./commands/worker.ts";

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    }
    return n;
  };
}

const program = new Command()
  .name("dpn")
  .description("DPN: a decentralized computing power bank.")
  .option("--verbose", "print stack traces with errors")
  .exitOverride();

function exampleCommand(name: string, description: string): void {
  program
    .command(name)
    .description(description)
    .option(
      "--devices <n>",
      "devices in the seeded network",
      positiveInt("--devices", 100_000),
      1000,
    )
    .option("--proofs <n>", "Groth16 proofs in the example job", positiveInt("--proofs", 1000), 16)
    .option("--seed <seed>", "seed for the network, the feeds and the assignment", "dpn-demo")
    .option("--json", "print the result as JSON", false)
    .action((options: { devices: number; proofs: number; seed: string; json: boolean }) => {
      console.log(example(options));
    });
}

exampleCommand("example", "the protocol core's worked example on a seeded network (no processes)");
demoCommand(program);
workerCommand(program);
devicesCommand(program);
simCommand(program);
economicsCommand(program);
marketCommand(program);
keysCommand(program);
nodeCommand(program);
jobCommand(program);
walletCommand(program);
ledgerCommand(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message; help and version are successes, the rest is misuse.
    const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version";
    process.exitCode = ok ? 0 : 2;
  } else if (isDpnError(error)) {
    console.error(`error ${error.code}: ${error.message}`);
    if (program.opts<{ verbose?: boolean }>().verbose) console.error(error.stack);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
