/**
 * The device side of the device channel, once for every device (docs/adr/0013): a pure session
 * machine and a driver that runs it over any WebSocket-like socket.
 */
export * from "./backoff.ts";
export * from "./driver.ts";
export * from "./endpoints.ts";
export * from "./errors.ts";
export * from "./frames.ts";
export * from "./machine.ts";
export * from "./nodeIdentity.ts";
export * from "./replayMemory.ts";
