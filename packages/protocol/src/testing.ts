import { DpnError } from "./errors.ts";

/** The code of the DpnError `fn` throws, for tests; fails loudly if it throws something else. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DpnError) return error.code;
    throw error;
  }
  return undefined;
}
