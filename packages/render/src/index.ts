export * from "./blender.ts";
export * from "./compare.ts";
export * from "./errors.ts";
export * from "./image.ts";
export * from "./png.ts";
export * from "./tiles.ts";
