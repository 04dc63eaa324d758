import { writeFileSync } from "node:fs";
import { renderErrorsDoc } from "../packages/cli/src/errorCatalog.ts";

// Writes docs/errors.md from the error tables of every package (packages/*/src/errors.ts).
writeFileSync(new URL("../docs/errors.md", import.meta.url), renderErrorsDoc());
console.log("docs/errors.md updated");
