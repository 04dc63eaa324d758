import { parentPort } from "node:worker_threads";
import { runFragmentQuery } from "@dpn/analytics";

/**
 * A simulated device for bench/analytics.ts: one worker thread that runs fragment queries as they
 * arrive and posts back what a device would send (the canonical JSON and its digest).
 */
export interface FragmentTask {
  readonly id: number;
  readonly path: string;
  readonly spec: unknown;
}

export type FragmentReply =
  | { readonly id: number; readonly ok: true; readonly json: string; readonly digest: string }
  | { readonly id: number; readonly ok: false; readonly message: string };

const port = parentPort;
if (port === null) throw new Error("analyticsWorker.ts runs only as a worker thread");
port.on("message", async (task: FragmentTask) => {
  let reply: FragmentReply;
  try {
    const result = await runFragmentQuery({ path: task.path }, task.spec);
    reply = { id: task.id, ok: true, json: result.json, digest: result.digest };
  } catch (error) {
    reply = {
      id: task.id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  port.postMessage(reply);
});
