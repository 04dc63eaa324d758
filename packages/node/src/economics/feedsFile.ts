import { readFileSync } from "node:fs";
import { DpnError, MAX_FEEDS } from "@dpn/protocol";
import { z } from "zod";
import { FEED_KINDS_OF, type FeedConfig, type OracleName } from "./feeds.ts";

/**
 * The feeds file of `dpn node --feeds <file>` and `startNode({ feeds })` (docs/protocol.md
 * §Oracles, "Configuration"): the feeds of the DPN/USD oracle and of the compute-price oracle.
 * A section left out keeps the embedded demo's feeds for that oracle.
 *
 *     { "dpn":     [{ "kind": "http-json", "id": "exchange-a", "url": "https://…", "path": ["price"] }, …],
 *       "compute": [{ "kind": "clearing", "id": "clearing" },
 *                   { "kind": "reference", "id": "cloud-list-price", "value": 1.2e-5 }, …] }
 */
export interface FeedsConfig {
  readonly dpn?: readonly FeedConfig[];
  readonly compute?: readonly FeedConfig[];
}

/** See the check below: one echo of the bank's own price is outvoted by the median, three are not. */
export const MAX_CLEARING_FEEDS = 1;

/** A feeds file is a few hundred bytes a feed; anything near this is not one. */
export const MAX_FEEDS_FILE_BYTES = 256 * 1024;

const Id = z.string().regex(/^[a-z0-9._-]{1,64}$/, "1 to 64 of a-z 0-9 . _ -");
const Positive = z.number().positive().finite();

const FeedSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("http-json"),
    id: Id,
    url: z.string().regex(/^https?:\/\//, "an http:// or https:// URL"),
    path: z.array(z.string()).max(16),
    timeoutMs: z.optional(z.number().int().min(1).max(30_000)),
  }),
  z.strictObject({ kind: z.literal("reference"), id: Id, value: Positive }),
  z.strictObject({ kind: z.literal("amm-twap"), id: Id }),
  z.strictObject({
    kind: z.literal("clearing"),
    id: Id,
    windowMs: z.optional(z.number().int().positive()),
  }),
  z.strictObject({
    kind: z.literal("simulated"),
    id: Id,
    seed: z.string().max(256),
    start: Positive,
    volatilityPerHour: z.number().min(0).max(1),
  }),
]);

const Section = (oracle: OracleName) =>
  z
    .array(FeedSchema)
    .min(1)
    .max(MAX_FEEDS)
    .superRefine((feeds, ctx) => {
      const seen = new Set<string>();
      feeds.forEach((feed, i) => {
        if (!FEED_KINDS_OF[oracle].includes(feed.kind)) {
          ctx.addIssue({
            code: "custom",
            path: [i, "kind"],
            message: `the ${oracle} oracle takes ${FEED_KINDS_OF[oracle].join(", ")}`,
          });
        }
        if (seen.has(feed.id)) {
          ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate id ${feed.id}` });
        }
        seen.add(feed.id);
      });
      // The clearing price echoes the oracle through the rate; a majority of echoes drifts it
      // without bound (docs/adr/0020-compute-price-oracle.md), one is outvoted by the median.
      if (feeds.filter((f) => f.kind === "clearing").length > MAX_CLEARING_FEEDS) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: `at most ${MAX_CLEARING_FEEDS} clearing feed: more read the same tasks and can outvote the other feeds`,
        });
      }
    });

const FeedsFileSchema = z.strictObject({
  dpn: z.optional(Section("dpn-usd")),
  compute: z.optional(Section("compute-usd")),
});

function invalid(where: string, message: string): DpnError {
  return new DpnError("ORACLE_FEEDS_FILE_INVALID", `${where}: ${message}`, {
    hint: 'Give {"dpn": [feed, …], "compute": [feed, …]}; each feed has a kind (http-json, reference, amm-twap, clearing, simulated) and an id (docs/protocol.md §Oracles).',
  });
}

/** Parses and validates a feeds document (`where` names it in the error). */
export function parseFeedsConfig(text: string, where = "the feeds file"): FeedsConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(where, `not JSON (${(error as Error).message})`);
  }
  return feedsConfig(json, where);
}

/** Validates a feeds configuration already parsed (a file's JSON, or startNode's option). */
export function feedsConfig(value: unknown, where = "the feeds configuration"): FeedsConfig {
  const parsed = FeedsFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? "" : `${issue.path.join(".")}: `;
    throw invalid(where, `${path}${issue?.message ?? "invalid"}`);
  }
  return parsed.data as FeedsConfig;
}

/** Reads and validates a feeds file. */
export function readFeedsFile(path: string): FeedsConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw invalid(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (text.length > MAX_FEEDS_FILE_BYTES) {
    throw invalid(path, `larger than ${MAX_FEEDS_FILE_BYTES} bytes`);
  }
  return parseFeedsConfig(text, path);
}
