import { readFileSync, writeFileSync } from "node:fs";
import { parameterTableMarkdown } from "@dpn/protocol";

// Rewrites the parameter table of docs/protocol.md from the protocol's parameter registry.
const path = new URL("../docs/protocol.md", import.meta.url);
const doc = readFileSync(path, "utf8");
const start = "<!-- parameter-table:start -->";
const end = "<!-- parameter-table:end -->";
const table = `${start}\n${parameterTableMarkdown()}\n${end}`;
const next =
  doc.includes(start) && doc.includes(end)
    ? doc.slice(0, doc.indexOf(start)) + table + doc.slice(doc.indexOf(end) + end.length)
    : doc.replace("<!-- parameter-table -->", `## Parameter table\n\n${table}`);
writeFileSync(path, next);
console.log("docs/protocol.md parameter table updated");
