import { DpnError } from "@dpn/protocol";
import { z } from "zod";

/**
 * Field schemas shared by every message of DPN (docs/protocol.md §Messages), and the one way a
 * body is checked against its schema.
 */

/** Bounds of one message: items per job, leases per frame, bytes per item. */
export const MAX_JOB_ITEMS = 10_000;
export const MAX_LEASES_PER_FRAME = 1_000;
export const MAX_RESULTS_PER_FRAME = 1_000;
export const MAX_ITEM_JSON_BYTES = 64 * 1024;

export const Sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "a SHA-256 digest: 64 lower-case hex digits");
export const AccountId = z
  .string()
  .regex(/^dpn_[0-9a-f]{40}$/, "a DPN id: dpn_ followed by 40 hex digits");
/** A DPN amount as a decimal string ("12.5"), parsed exactly by parseDpn. */
export const DpnAmount = z.string().regex(/^\d{1,59}(\.\d{1,18})?$/, 'a DPN amount such as "12.5"');
export const Geohash4 = z
  .string()
  .regex(
    /^[0123456789bcdefghjkmnpqrstuvwxyz]{4}$/,
    "a precision-4 geohash (4 characters of 0-9, b-z without a, i, l, o)",
  );
export const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64");
/** A decimal field element (a circuit signal). */
export const Decimal = z.string().regex(/^\d{1,78}$/, "a decimal field element");
/**
 * Longest client reference, defined here once for the schema, the CLI and the node. 64 holds a
 * UUID (36) with room to spare; the node keys ledger operations as
 * `<operation>:<DPN id>:<clientRef>`, whose longest prefix (`liquidity:` + 44 + `:`) is 55
 * characters, and 55 + 64 stays within the ledger's 128-character idempotency keys. (At 128, a
 * transfer whose reference passed the schema failed in the ledger past 74 characters.)
 */
export const MAX_CLIENT_REF_LENGTH = 64;
/** A client's name for a request, which makes a retry return the first answer. */
export const ClientRef = z.string().min(1).max(MAX_CLIENT_REF_LENGTH);
/** Task and job ids as the node makes them. */
export const TaskId = z.string().min(1).max(64);

export const MESSAGE_INVALID = "MESSAGE_INVALID";

/** Validates a body against its schema; the error names the first offending field. */
export function parseMessage<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  throw new DpnError(
    MESSAGE_INVALID,
    `Invalid ${what}: ${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid"}.`,
    {
      hint: "Check the request against the API schema at /openapi.json.",
      details: {
        path,
        issues: result.error.issues
          .slice(0, 5)
          .map((i) => ({ path: i.path.join("."), message: i.message })),
      },
    },
  );
}
