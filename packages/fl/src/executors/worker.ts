import { isDpnError } from "@dpn/protocol";
import { type LocalTrainJob, type LocalTrainResult, trainLocal } from "../train.ts";

/**
 * The piscina worker entry: one call is one device's local training, on this thread's own tfjs
 * wasm backend. A DpnError's code and hint do not survive the thread boundary (structured clone
 * keeps only message and name), so they travel as data and pool.ts rethrows them.
 */
export type WorkerOutcome =
  | { readonly ok: true; readonly result: LocalTrainResult }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly hint?: string;
      readonly details: Record<string, unknown>;
    };

export default async function runTraining(job: LocalTrainJob): Promise<WorkerOutcome> {
  try {
    return { ok: true, result: await trainLocal(job) };
  } catch (error) {
    if (isDpnError(error)) return { ok: false, ...error.toJSON() };
    throw error;
  }
}
