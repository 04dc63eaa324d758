import { z } from "zod";

/**
 * Field shapes of the HTTP API's responses (docs/protocol.md §HTTP API). Requests are the signed
 * messages of ../messages.ts; these describe what the node answers, so the SDK, the CLI and the
 * dashboard can type and check the answers with the same schemas the node is tested against.
 */

/** A signed DPN amount as a decimal string ("-12.5"): a balance change. */
export const SignedDpnAmount = z
  .string()
  .regex(/^-?\d{1,59}(\.\d{1,18})?$/, 'a signed DPN amount such as "-12.5"');

/** A bigint in base units (10⁻¹⁸ DPN, pool shares, basis points) as a decimal string. */
export const BaseUnits = z.string().regex(/^-?\d{1,80}$/, "an integer in base units");

/**
 * What every refusal carries: a stable code to match on, a message saying what happened, a hint
 * saying what to do, and the documentation of the code (docs/errors.md#<code>).
 */
export const ErrorResponse = z.strictObject({
  code: z.string(),
  message: z.string(),
  hint: z.optional(z.string()),
  /** docs/errors.md#<code>: the code's meaning and what usually fixes it. */
  docs: z.optional(z.string()),
  details: z.record(z.string(), z.unknown()),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
