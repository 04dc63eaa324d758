#!/usr/bin/env -S npx tsx
import { isDpnError } from "@dpn/protocol";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { demo } from "./commands/demo.ts";

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

program
  .command("demo")
  .description("run the worked example of the protocol core on a seeded network")
  .option("--devices <n>", "devices in the seeded network", positiveInt("--devices", 100_000), 1000)
  .option("--proofs <n>", "Groth16 proofs in the example job", positiveInt("--proofs", 1000), 16)
  .option("--seed <seed>", "seed for the network, the feeds and the assignment", "dpn-demo")
  .option("--json", "print the result as JSON", false)
  .action((options: { devices: number; proofs: number; seed: string; json: boolean }) => {
    console.log(demo(options));
  });

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
