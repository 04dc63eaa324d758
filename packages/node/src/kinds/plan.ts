import { fragmentCount, splitWork } from "@dpn/protocol";
import { MAX_ITEMS_PER_FRAGMENT } from "../limits.ts";
import type { PlannedTask } from "./kind.ts";

/**
 * Splits a job of independent items into fragments (docs/protocol.md §Task splitting):
 * ⌈log2 N⌉ for N eligible devices, more if a fragment's results would not fit one message
 * (MAX_ITEMS_PER_FRAGMENT), never more than the items. One task per fragment; its CU is the
 * sum of its items'.
 */
export function splitItems(
  itemCu: readonly number[],
  eligibleDevices: number,
  maxCuPerTask = Number.POSITIVE_INFINITY,
): PlannedTask[] {
  const items = itemCu.length;
  const totalCu = itemCu.reduce((a, b) => a + b, 0);
  const fragments = Math.min(
    items,
    Math.max(
      fragmentCount(eligibleDevices, items),
      Math.ceil(items / MAX_ITEMS_PER_FRAGMENT),
      Math.ceil(totalCu / maxCuPerTask),
    ),
  );
  const tasks: PlannedTask[] = [];
  let from = 0;
  for (const [idx, size] of splitWork(items, fragments).entries()) {
    const cu = itemCu.slice(from, from + size).reduce((a, b) => a + b, 0);
    tasks.push({ idx, replica: 0, items: [from, from + size], cu, state: "pending" });
    from += size;
  }
  if (tasks.every((task) => task.cu <= maxCuPerTask)) return tasks;
  return packItems(itemCu, maxCuPerTask);
}

/**
 * Items of uneven cost that an even split leaves over `maxCuPerTask` somewhere: consecutive
 * items packed greedily, each task as full as the cap and MAX_ITEMS_PER_FRAGMENT allow. Every
 * item must fit alone (the kind refuses the job otherwise).
 */
function packItems(itemCu: readonly number[], maxCuPerTask: number): PlannedTask[] {
  const tasks: PlannedTask[] = [];
  let from = 0;
  let cu = 0;
  for (const [i, itemCost] of itemCu.entries()) {
    if (i > from && (cu + itemCost > maxCuPerTask || i - from >= MAX_ITEMS_PER_FRAGMENT)) {
      tasks.push({ idx: tasks.length, replica: 0, items: [from, i], cu, state: "pending" });
      from = i;
      cu = 0;
    }
    cu += itemCost;
  }
  tasks.push({ idx: tasks.length, replica: 0, items: [from, itemCu.length], cu, state: "pending" });
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
