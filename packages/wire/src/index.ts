/**
 * The isomorphic entry: it runs in Node and in a browser alike (no node:* modules, no Buffer, no
 * process; browserEntry.test.ts bundles it for a browser to keep it so). Node-only parts (key
 * files) are in `@dpn/wire/node`.
 */

export * from "./api/index.ts";
export * from "./challenge.ts";
export { base64ToBytes, bytesToBase64 } from "./encoding.ts";
export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./identity.ts";
export * from "./messages.ts";
export * from "./replayGuard.ts";
export * from "./session/index.ts";
export * from "./signedRead.ts";
