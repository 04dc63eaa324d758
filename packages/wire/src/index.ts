export * from "./envelope.ts";
export * from "./identity.ts";
export * from "./keyFile.ts";
export * from "./messages.ts";
export * from "./replayGuard.ts";
