import { z } from "zod";

/**
 * `?limit=` of the listing endpoints (reserve decisions, rate epochs, oracle rounds): 1 to 1,000,
 * the most epochs the dashboard charts; DEFAULT_LIMIT when absent.
 */
export const LimitQuery = z.strictObject({
  limit: z.optional(z.coerce.number().int().min(1).max(1000)),
});

export const DEFAULT_LIMIT = 100;
