import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { newIdentity } from "@dpn/wire";
import { readKeyFile, writeKeyFile } from "@dpn/wire/node";
import type { Command } from "commander";
import { type CommonOptions, defaultKeyPath, print } from "../context.ts";

export function keysCommand(program: Command): void {
  const keys = program
    .command("keys")
    .description("create and show identities (Ed25519 + ML-DSA-44 keys)");
  keys
    .command("new")
    .description("create an identity and write its key file (mode 0600)")
    .option("--out <path>", "key file to write (default $DPN_KEYS or ~/.dpn/identity.json)")
    .option("--force", "replace an existing key file (its identity is lost)", false)
    .option("--json", "print the result as JSON", false)
    .action((options: { out?: string; force: boolean } & CommonOptions) => {
      const path = options.out ?? defaultKeyPath();
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const identity = newIdentity();
      writeKeyFile(path, identity, { overwrite: options.force });
      print(
        options,
        { id: identity.id, path },
        () => `created ${identity.id}\nkey file ${path} (mode 0600)`,
      );
    });
  keys
    .command("show")
    .description("print the id of a key file")
    .option("--keys <path>", "key file (default $DPN_KEYS or ~/.dpn/identity.json)")
    .option("--json", "print the result as JSON", false)
    .action((options: CommonOptions) => {
      const identity = readKeyFile(options.keys ?? defaultKeyPath());
      print(options, { id: identity.id }, () => identity.id);
    });
}
