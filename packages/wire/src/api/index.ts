/**
 * The HTTP API's response schemas, one file per API area (the node's routes/<area>.ts). Browser
 * safe like the rest of the entry: zod only.
 */
export * from "./accounts.ts";
export * from "./artifacts.ts";
export * from "./common.ts";
export * from "./devices.ts";
export * from "./economics.ts";
export * from "./jobs.ts";
export * from "./ledger.ts";
export * from "./market.ts";
export * from "./node.ts";
