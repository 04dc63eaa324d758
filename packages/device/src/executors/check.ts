import { DpnError, isDpnError } from "@dpn/protocol";
import { parseMessage } from "@dpn/wire";
import type { z } from "zod";
import { DEVICE_OUTPUT_INVALID, DEVICE_TASK_INVALID } from "../errors.ts";

/** Data a lease points to (an artifact's content), checked against its schema. */
export function parseLeased<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  try {
    return parseMessage(schema, value, what);
  } catch (error) {
    throw new DpnError(DEVICE_TASK_INVALID, `The node leased a malformed ${what}.`, {
      hint: "This is a node or requester bug; the lease is dropped and will expire.",
      cause: error,
      details: isDpnError(error) ? error.details : {},
    });
  }
}

/** Checks our own outputs against the kind's output schema before they are signed and sent. */
export function checkOutputs(schema: z.ZodType, outputs: readonly unknown[]): unknown[] {
  return outputs.map((output) => {
    try {
      return parseMessage(schema, output, "executor output");
    } catch (error) {
      throw new DpnError(
        DEVICE_OUTPUT_INVALID,
        "An executor produced output the node would reject.",
        {
          hint: "This is a device agent bug; please report it with the log.",
          cause: error,
        },
      );
    }
  });
}
