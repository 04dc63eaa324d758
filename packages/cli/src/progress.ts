import type { JobView } from "@dpn/sdk";
import { SingleBar } from "cli-progress";

/** A progress bar for a job on a terminal; plain lines when output is not a terminal. */
export function jobProgress(label: string): { update(job: JobView): void; stop(): void } {
  if (!process.stderr.isTTY) {
    return {
      update: (job) =>
        console.error(`${label} ${job.jobId}: ${job.state}, ${job.itemsDone}/${job.items} items`),
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} items | {state} | spent {spent} DPN`,
    stream: process.stderr,
    hideCursor: true,
  });
  let started = false;
  return {
    update(job) {
      if (!started) {
        bar.start(job.items, 0, { state: job.state, spent: job.spent });
        started = true;
      }
      bar.update(job.itemsDone, { state: job.state, spent: job.spent });
    },
    stop: () => bar.stop(),
  };
}
