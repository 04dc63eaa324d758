import { DpnError, type DpnErrorCode } from "@dpn/protocol";
import type { z } from "zod";

/**
 * Validates `value` against a zod schema; on failure throws DpnError(`code`) naming the first
 * offending field, with up to five issues in `details`.
 */
export function parseWith<T>(
  schema: z.ZodType<T>,
  value: unknown,
  code: DpnErrorCode,
  what: string,
  hint: string,
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  throw new DpnError(
    code,
    `Invalid ${what}: ${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid"}.`,
    {
      hint,
      details: {
        path,
        issues: result.error.issues
          .slice(0, 5)
          .map((i) => ({ path: i.path.join("."), message: i.message })),
      },
    },
  );
}
