import {
  DEFAULT_MARKET_SEED,
  type FeedsConfig,
  readFeedsFile,
  type StoreChoice,
  startNode,
} from "@dpn/node";
import { DpnError, isDpnError } from "@dpn/protocol";
import { readKeyFile } from "@dpn/wire/node";
import { type Command, InvalidArgumentError } from "commander";

function grantOf(unit: string, flag: string) {
  return (value: string, previous: Record<string, string>): Record<string, string> => {
    const match = /^(dpn_[0-9a-f]{40})=(\d+(?:\.\d+)?)$/.exec(value);
    if (match === null)
      throw new InvalidArgumentError(`use ${flag} <id>=<${unit}>, for example dpn_ab…=1000`);
    return { ...previous, [match[1] as string]: match[2] as string };
  };
}

function amountOption(flag: string) {
  return (value: string): string => {
    if (!/^\d{1,59}(\.\d{1,18})?$/.test(value))
      throw new InvalidArgumentError(`${flag} takes an amount such as 1500000 or 12.5`);
    return value;
  };
}

/**
 * `--feeds <file>`: read and validated while the options are parsed, so a bad file is a usage
 * error (exit 2) that names its code and the first bad field, and no node starts.
 */
function feedsOption(path: string): FeedsConfig {
  try {
    return readFeedsFile(path);
  } catch (error) {
    if (!isDpnError(error)) throw error;
    throw new InvalidArgumentError(`${error.code}: ${error.message}`);
  }
}

export function nodeCommand(program: Command): void {
  program
    .command("node")
    .description(
      "run a bank node (HTTP API and device channel on one port; SQLite in the data directory)",
    )
    .option("--data-dir <dir>", "where the ledger, node state and artifacts live", ".dpn/node")
    .option(
      "--store <where>",
      "sqlite (the embedded default, in --data-dir) or a PostgreSQL URL (postgres://…) for the ledger and the node's tables; artifacts stay in --data-dir",
      "sqlite",
    )
    .option(
      "--schema <prefix>",
      "PostgreSQL schema prefix: <prefix>_ledger and <prefix>_node",
      "dpn",
    )
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port (0: any free port)", "7070")
    .option("--keys <path>", "the node's identity key file (default: a new identity each start)")
    .option(
      "--grant <id=DPN>",
      "operator grant from the liquidity pool, once per id and amount (repeatable)",
      grantOf("DPN", "--grant"),
      {},
    )
    .option(
      "--grant-stable <id=USD>",
      "operator stable-unit deposit, once per id and amount (repeatable; stands in for a bridge)",
      grantOf("USD", "--grant-stable"),
      {},
    )
    .option(
      "--pool-dpn <DPN>",
      "DPN seeded into the AMM pool (from the liquidity allocation and the reserve)",
      amountOption("--pool-dpn"),
      DEFAULT_MARKET_SEED.poolDpn,
    )
    .option(
      "--pool-usd <USD>",
      "stable units seeded into the AMM pool (pool-usd / pool-dpn is the opening price)",
      amountOption("--pool-usd"),
      DEFAULT_MARKET_SEED.poolStable,
    )
    .option(
      "--reserve-usd <USD>",
      "stable units deposited for the reserve's buy-backs",
      amountOption("--reserve-usd"),
      DEFAULT_MARKET_SEED.reserveStable,
    )
    .option(
      "--reserve-pool-dpn <DPN>",
      "the reserve's part of --pool-dpn: its pool shares earn the fees it buys DPN back with",
      amountOption("--reserve-pool-dpn"),
      DEFAULT_MARKET_SEED.reserveLiquidityDpn,
    )
    .option("--no-market", "do not seed the AMM pool")
    .option(
      "--feeds <file>",
      'JSON file of the oracles\' feeds: {"dpn": [...], "compute": [...]}, each feed {kind, id, …} of kind http-json (url, path), reference (value), amm-twap, clearing or simulated; a section left out keeps the demo\'s feeds (partly simulated)',
      feedsOption,
    )
    .option("--lease-ms <ms>", "time a device has to return a task", "120000")
    .option("--log-level <level>", "pino log level", "info")
    .action(
      async (options: {
        dataDir: string;
        store: string;
        schema: string;
        host: string;
        port: string;
        keys?: string;
        grant: Record<string, string>;
        grantStable: Record<string, string>;
        poolDpn: string;
        poolUsd: string;
        reserveUsd: string;
        reservePoolDpn: string;
        market: boolean;
        feeds?: FeedsConfig;
        leaseMs: string;
        logLevel: string;
      }) => {
        const node = await startNode({
          dataDir: options.dataDir,
          store: storeChoice(options.store, options.schema),
          host: options.host,
          port: Number(options.port),
          ...(options.keys === undefined ? {} : { identity: readKeyFile(options.keys) }),
          grants: options.grant,
          stableGrants: options.grantStable,
          market: options.market && {
            poolDpn: options.poolDpn,
            poolStable: options.poolUsd,
            reserveStable: options.reserveUsd,
            reserveLiquidityDpn: options.reservePoolDpn,
          },
          ...(options.feeds === undefined ? {} : { feeds: options.feeds }),
          leaseMs: Number(options.leaseMs),
          logLevel: options.logLevel,
        });
        console.error(`dpn node ${node.identity.id} listening on ${node.url}`);
        for (const oracle of node.oracles) {
          const view = oracle.view();
          const feeds = view.feeds.map((f) => `${f.id} (${f.kind})`).join(", ");
          console.error(
            `oracle ${view.name} [${view.unit}]: ${feeds}${view.simulated ? " — SIMULATED feeds: not market prices" : ""}`,
          );
        }
        const stop = async (): Promise<void> => {
          await node.close();
          process.exit(0);
        };
        process.once("SIGINT", () => void stop());
        process.once("SIGTERM", () => void stop());
      },
    );
}

/** `--store`: "sqlite", or a PostgreSQL connection URL. */
function storeChoice(store: string, schema: string): StoreChoice {
  if (store === "sqlite") return { kind: "sqlite" };
  if (/^postgres(ql)?:\/\//.test(store)) {
    return { kind: "postgres", connectionString: store, schemaPrefix: schema };
  }
  throw new DpnError(
    "CLI_INVALID_OPTION",
    `--store ${store} is neither sqlite nor a postgres:// URL.`,
    {
      hint: "Pass --store sqlite (the default) or --store postgres://user@host:5432/database.",
    },
  );
}
