import { PARAMETERS } from "./params.ts";

/** The parameter table of docs/protocol.md, rendered from the registry so the two never drift. */
export function parameterTableMarkdown(): string {
  const rows = PARAMETERS.map((p) => {
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchor = p.section
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    return `| \`${p.path}\` | ${fmt(p.defaultValue)} | ${fmt(p.min)} | ${fmt(p.max)}${p.integer ? " (whole)" : ""} | ${p.unit} | [${p.section}](#${anchor}) |`;
  });
  return [
    "| parameter | default | min | max | unit | section |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

function fmt(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "∞";
  if (value !== 0 && (Math.abs(value) >= 1e7 || Math.abs(value) < 1e-3)) {
    return value.toExponential().replace("e+", "e");
  }
  return String(value);
}
