import type { TaskRow } from "../store/schema.ts";

/**
 * The outputs of a job's tasks in item order (one accepted task per fragment; items of fragments
 * without one are null).
 */
export function concatOutputs(tasks: readonly TaskRow[]): unknown[] {
  const byFragment = new Map<number, TaskRow>();
  for (const task of tasks) {
    const current = byFragment.get(task.idx);
    if (current === undefined || (current.state !== "done" && task.state === "done")) {
      byFragment.set(task.idx, task);
    }
  }
  const outputs: unknown[] = [];
  for (const task of [...byFragment.values()].sort((a, b) => a.item_from - b.item_from)) {
    const taskOutputs: unknown[] =
      task.state === "done" && task.output_json !== null
        ? (JSON.parse(task.output_json) as unknown[])
        : [];
    for (let i = 0; i < task.item_to - task.item_from; i++) outputs.push(taskOutputs[i] ?? null);
  }
  return outputs;
}
