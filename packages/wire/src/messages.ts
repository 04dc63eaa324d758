/**
 * The messages of DPN (docs/protocol.md §Messages): the body of every signed envelope, for the
 * device channel (WebSocket) and the HTTP API. One zod schema per message; the node validates
 * every body with these schemas and the OpenAPI document is generated from them. Each task
 * kind's own shapes live in tasks/<kind>.ts.
 */
export * from "./channel.ts";
export * from "./economics.ts";
export * from "./jobs.ts";
export * from "./market.ts";
export * from "./schemas.ts";
export * from "./tasks/index.ts";
