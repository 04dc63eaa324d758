import { fragmentCount, splitWork } from "@dpn/protocol";
import { MAX_ITEMS_PER_FRAGMENT } from "../limits.ts";
import type { PlannedTask } from "./kind.ts";

/**
 * Splits a job of independent items into fragments (docs/protocol.md §Task splitting):
 * ⌈log2 N⌉ for N eligible devices, more if a fragment's results would not fit one message
 * (MAX_ITEMS_PER_FRAGMENT), never more than the items. One task per fragment; its CU is the
 * sum of its items'.
 */
export function splitItems(itemCu: readonly number[], eligibleDevices: number): PlannedTask[] {
  const items = itemCu.length;
  const fragments = Math.min(
    items,
    Math.max(fragmentCount(eligibleDevices, items), Math.ceil(items / MAX_ITEMS_PER_FRAGMENT)),
  );
  const tasks: PlannedTask[] = [];
  let from = 0;
  for (const [idx, size] of splitWork(items, fragments).entries()) {
    const cu = itemCu.slice(from, from + size).reduce((a, b) => a + b, 0);
    tasks.push({ idx, replica: 0, items: [from, from + size], cu, state: "pending" });
    from += size;
  }
  return tasks;
}

/** `replicas` tasks of every fragment, the CU of each run its own (the quote pays for all). */
export function replicated(
  fragments: ReadonlyArray<{ readonly items: readonly [number, number]; readonly cu: number }>,
  replicas: number,
): PlannedTask[] {
  return fragments.flatMap((fragment, idx) =>
    Array.from({ length: replicas }, (_, replica) => ({
      idx,
      replica,
      items: fragment.items,
      cu: fragment.cu,
      state: "pending" as const,
    })),
  );
}

/** Items [from, to) of a task's job. */
export function itemsOf<I>(items: readonly I[], task: { item_from: number; item_to: number }): I[] {
  return items.slice(task.item_from, task.item_to);
}

/** A kind's refusal of a result: a code and why. */
export function refuse(code: string, reason: string): { ok: false; code: string; reason: string } {
  return { ok: false, code, reason };
}
