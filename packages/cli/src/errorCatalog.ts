import { ANALYTICS_ERRORS } from "@dpn/analytics";
import { DEVICE_ERRORS } from "@dpn/device";
import { FL_ERRORS } from "@dpn/fl";
import { LEDGER_ERRORS } from "@dpn/ledger";
import { NODE_ERRORS } from "@dpn/node";
import { type ErrorEntry, PROTOCOL_ERRORS } from "@dpn/protocol";
import { RENDER_ERRORS } from "@dpn/render";
import { SDK_ERRORS } from "@dpn/sdk";
import { SIM_ERRORS } from "@dpn/sim";
import { WIRE_ERRORS } from "@dpn/wire";
import { CLI_ERRORS } from "./errors.ts";

/**
 * Every error code of DPN, package by package, bottom of the dependency graph first: what
 * docs/errors.md is generated from (npm run docs:errors). The CLI sits on every package, so the
 * whole catalog can be assembled here.
 */
export const ERROR_CATALOG: ReadonlyArray<{
  readonly pkg: string;
  readonly entries: readonly ErrorEntry[];
}> = [
  { pkg: "@dpn/protocol", entries: Object.values(PROTOCOL_ERRORS) },
  { pkg: "@dpn/wire", entries: Object.values(WIRE_ERRORS) },
  { pkg: "@dpn/ledger", entries: Object.values(LEDGER_ERRORS) },
  { pkg: "@dpn/analytics", entries: Object.values(ANALYTICS_ERRORS) },
  { pkg: "@dpn/fl", entries: Object.values(FL_ERRORS) },
  { pkg: "@dpn/node", entries: Object.values(NODE_ERRORS) },
  { pkg: "@dpn/device", entries: Object.values(DEVICE_ERRORS) },
  { pkg: "@dpn/render", entries: Object.values(RENDER_ERRORS) },
  { pkg: "@dpn/sdk", entries: Object.values(SDK_ERRORS) },
  { pkg: "@dpn/sim", entries: Object.values(SIM_ERRORS) },
  { pkg: "@dpn/cli", entries: Object.values(CLI_ERRORS) },
];

/** docs/errors.md: one heading per code (its anchor is the code in lower case). */
export function renderErrorsDoc(): string {
  const lines = [
    "# Error codes",
    "",
    "<!-- Generated from each package's src/errors.ts by `npm run docs:errors`; do not edit. -->",
    "",
    "Every failure a user can cause is a `DpnError` with a stable code. The HTTP API answers it",
    "with the status below and the body `{ code, message, hint, docs, details }`, where `docs`",
    "links the code's entry here; the CLI prints the code, message and hint. Match on the code,",
    "never on the message or the status alone. A code never changes meaning once released.",
    "",
    'Codes noted "(a task failure)" are not refusals of a request: they are the `failure` of a job',
    "or task in its view. The HTTP status of codes raised only in a device, the SDK, the simulator",
    "or the CLI says how the node would classify them; they never reach its API.",
    "",
  ];
  for (const { pkg, entries } of ERROR_CATALOG) {
    lines.push(`## ${pkg}`, "");
    for (const entry of [...entries].sort((a, b) => (a.code < b.code ? -1 : 1))) {
      lines.push(`### ${entry.code}`, "", `HTTP ${entry.status}. ${entry.meaning}`, "");
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
