/** The Node-only entry, `@dpn/wire/node`: what needs the file system. */
export * from "./keyFile.ts";
