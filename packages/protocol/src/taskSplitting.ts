import { DpnError } from "./errors.ts";
import { nonNegativeInteger, positiveInteger } from "./validate.ts";

/**
 * Task splitting (docs/protocol.md §Task splitting), §3.4:
 * "Number of task fragments = ⌈log2(Number of nodes)⌉ … a single node cannot monopolize
 * high-value tasks". N is the number of devices eligible for the job. The count is at least 1
 * (⌈log2 1⌉ = 0, and a job on an empty network waits as one fragment), never more than the job's
 * work items (a fragment holds at least one), and never more than MAX_FRAGMENTS_PER_JOB.
 */

/** ⌈log2(5·10^9)⌉ = 33: room for every device on Earth, and a bound on per-job bookkeeping. */
export const MAX_FRAGMENTS_PER_JOB = 64;

/** ⌈log2 n⌉ for n >= 1, exactly (floating-point log2 misrounds near powers of two). */
export function ceilLog2(n: number): number {
  positiveInteger("n", n);
  let bits = 0;
  let value = n - 1;
  while (value > 0) {
    value = Math.floor(value / 2);
    bits += 1;
  }
  return bits;
}

export function fragmentCount(eligibleDevices: number, workItems: number): number {
  nonNegativeInteger("eligibleDevices", eligibleDevices);
  positiveInteger("workItems", workItems);
  const byNetwork = eligibleDevices <= 1 ? 1 : ceilLog2(eligibleDevices);
  return Math.min(byNetwork, workItems, MAX_FRAGMENTS_PER_JOB);
}

/**
 * Sizes of `fragments` fragments covering `workItems` items: they differ by at most one, larger
 * first, so no fragment exceeds ⌈workItems / fragments⌉ (the anti-monopoly bound).
 */
export function splitWork(workItems: number, fragments: number): number[] {
  positiveInteger("workItems", workItems);
  positiveInteger("fragments", fragments);
  if (fragments > workItems) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `Cannot split ${workItems} items into ${fragments} fragments.`,
      {
        hint: "Use fragmentCount(), which never asks for more fragments than items.",
      },
    );
  }
  const base = Math.floor(workItems / fragments);
  const extra = workItems % fragments;
  return Array.from({ length: fragments }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The largest fragment's size, ⌈workItems / fragments⌉. */
export function fragmentBound(workItems: number, fragments: number): number {
  return Math.ceil(
    positiveInteger("workItems", workItems) / positiveInteger("fragments", fragments),
  );
}
