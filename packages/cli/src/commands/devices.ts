import { hardwareFingerprint } from "@dpn/device";
import { DpnError } from "@dpn/protocol";
import { Sha256Hex } from "@dpn/wire";
import type { Command } from "commander";
import { type CommonOptions, client, identity, print } from "../context.ts";

export function devicesCommand(program: Command): void {
  const devices = program.command("devices").description("registered devices and their slots");
  devices
    .command("list")
    .description("devices registered on the node: class, layer, reputation, online")
    .option("--node <url>", "bank node URL")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions) => {
      const result = await client(options, false).devices();
      print(
        options,
        result,
        () =>
          result.devices
            .map(
              (d) =>
                `${d.deviceId}  ${d.deviceClass.padEnd(6)} ${d.layer.padEnd(5)} rep ${d.reputation.toFixed(2)}  ${d.online ? "online" : "offline"}  owner ${d.owner}`,
            )
            .join("\n") || "no devices",
      );
    });
  devices
    .command("release")
    .description(
      "disconnect your devices on a machine, freeing its slots (the node admits 8 connected devices per hardware fingerprint)",
    )
    .option("--fingerprint <sha256>", "the machine's fingerprint (default: this machine's)")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "the key file of the devices' owner (the account they are paid to)")
    .option("--json", "print the result as JSON", false)
    .action(async (options: CommonOptions & { fingerprint?: string }) => {
      const fingerprint = options.fingerprint ?? hardwareFingerprint();
      if (!Sha256Hex.safeParse(fingerprint).success) {
        throw new DpnError("CLI_INVALID_OPTION", "--fingerprint is not a SHA-256 in hex.", {
          hint: "Pass 64 lowercase hex characters, or leave it out for this machine's fingerprint.",
        });
      }
      const result = await client(options, true).releaseDevices(fingerprint);
      print(
        options,
        result,
        () =>
          `released ${result.released.length} device(s) of ${identity(options).id} on ${fingerprint.slice(0, 12)}…; ${result.connected} other(s) still connected`,
      );
    });
}
