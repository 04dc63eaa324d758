import { DpnError } from "@dpn/protocol";

/** The code of the DpnError `fn` throws, for tests; rethrows anything else. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DpnError) return error.code;
    throw error;
  }
  return undefined;
}

/** The code of the DpnError the promise rejects with, for tests. */
export async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DpnError) return error.code;
    throw error;
  }
  return undefined;
}
