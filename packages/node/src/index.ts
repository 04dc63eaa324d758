export * from "./bank.ts";
export * from "./economics/feedsFile.ts";
export * from "./economics/priceSource.ts";
export * from "./errors.ts";
export * from "./server.ts";
