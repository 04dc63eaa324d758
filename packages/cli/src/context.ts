import { homedir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import type { Identity } from "@dpn/wire";
import { readKeyFile } from "@dpn/wire/node";

/** Where commands find the node and the caller's keys: flags, then environment, then defaults. */
export interface CommonOptions {
  readonly node?: string;
  readonly keys?: string;
  readonly json?: boolean;
}

export const DEFAULT_NODE_URL = "http://127.0.0.1:7070";

export function defaultKeyPath(): string {
  return (
    process.env.DPN_KEYS ?? join(process.env.DPN_HOME ?? join(homedir(), ".dpn"), "identity.json")
  );
}

export function nodeUrl(options: CommonOptions): string {
  return options.node ?? process.env.DPN_NODE ?? DEFAULT_NODE_URL;
}

export function identity(options: CommonOptions): Identity {
  return readKeyFile(options.keys ?? defaultKeyPath());
}

export function client(options: CommonOptions, signed: boolean): DpnClient {
  return new DpnClient({
    url: nodeUrl(options),
    ...(signed ? { identity: identity(options) } : {}),
  });
}

/** Prints `value` as JSON with --json, else the human rendering. */
export function print(options: CommonOptions, value: unknown, human: () => string): void {
  console.log(options.json === true ? JSON.stringify(value, null, 2) : human());
}
