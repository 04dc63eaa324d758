import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOG, renderErrorsDoc } from "./errorCatalog.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Every source file of every package (tests excluded): where codes are raised. */
function sources(dir = join(ROOT, "packages")): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sources(path));
    else if (
      /\.tsx?$/.test(entry.name) &&
      !/\.test\.tsx?$/.test(entry.name) &&
      path.includes("/src/")
    )
      files.push(path);
  }
  return files;
}

/**
 * Every string literal shaped like a code (UPPER_SNAKE with an underscore) in the sources is a
 * code: thrown, declared as a constant, or set as a task's failure. These few are not.
 */
const CODE_LIKE = /"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g;
const NOT_CODES = new Set([
  "WASM_HAS_MULTITHREAD_SUPPORT", // a TensorFlow.js flag
]);

const registered = new Map<string, string>();
for (const { pkg, entries } of ERROR_CATALOG) {
  for (const entry of entries) {
    if (registered.has(entry.code)) throw new Error(`${entry.code} is in two tables`);
    registered.set(entry.code, pkg);
  }
}

describe("the error catalog", () => {
  it("registers every code the sources raise", () => {
    const unregistered: string[] = [];
    let seen = 0;
    for (const file of sources()) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(CODE_LIKE)) {
        const code = match[1] ?? "";
        if (NOT_CODES.has(code)) continue;
        seen += 1;
        if (!registered.has(code)) unregistered.push(`${code} (${file.slice(ROOT.length)})`);
      }
    }
    expect(seen).toBeGreaterThan(150);
    expect(unregistered).toEqual([]);
  });

  it("gives every code an error status, one line of meaning and its docs anchor", () => {
    for (const { entries } of ERROR_CATALOG) {
      for (const entry of entries) {
        expect(entry.status, entry.code).toBeGreaterThanOrEqual(400);
        expect(entry.status, entry.code).toBeLessThan(600);
        expect(entry.meaning, entry.code).toMatch(/^[^\n]{10,200}$/);
        expect(entry.docs).toBe(`docs/errors.md#${entry.code.toLowerCase()}`);
      }
    }
  });

  it("is what docs/errors.md says (run npm run docs:errors after changing a table)", () => {
    expect(readFileSync(join(ROOT, "docs/errors.md"), "utf8")).toBe(renderErrorsDoc());
  });
});
