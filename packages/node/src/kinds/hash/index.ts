import { costCu, DEFAULT_COST_MODEL, DpnError } from "@dpn/protocol";
import { HashOutput } from "@dpn/wire";
import { BENCHMARK_WORK } from "../../devices/benchmark.ts";
import { MAX_VERIFY_CU_PER_TASK } from "../../limits.ts";
import type { KindFactory, Verdict } from "../kind.ts";
import { itemsOf, refuse, splitItems } from "../plan.ts";
import { concatOutputs } from "../results.ts";

/**
 * `hash`: SHA-256 iterated from a seed, the compute unit's reference workload. Items split into
 * ⌈log2 N⌉ fragments (more if a fragment would cost more than MAX_VERIFY_CU_PER_TASK to verify); a
 * result is verified by recomputing every digest in the verify pool.
 */
export const hashKind: KindFactory<"hash"> = (context) => ({
  type: "hash",
  async plan({ spec, eligibleDevices }) {
    const itemCu = spec.items.map((item) => costCu({ type: "hash", iterations: item.iterations }));
    // Verification redoes a task's work, so a task may ask for no more than the verifier can
    // redo within its budget: more tasks for a large job, and no item larger than that alone.
    const costly = itemCu.findIndex((cu) => cu > MAX_VERIFY_CU_PER_TASK);
    if (costly !== -1) {
      throw new DpnError(
        "JOB_VERIFY_TOO_COSTLY",
        `Item ${costly} costs ${itemCu[costly]} CU, more than one task may cost to verify (${MAX_VERIFY_CU_PER_TASK} CU).`,
        {
          hint: `Split it into items of at most ${MAX_VERIFY_CU_PER_TASK * DEFAULT_COST_MODEL.hashesPerCu} iterations.`,
          details: { item: costly, cu: itemCu[costly], maxCu: MAX_VERIFY_CU_PER_TASK },
        },
      );
    }
    return { tasks: splitItems(itemCu, eligibleDevices, MAX_VERIFY_CU_PER_TASK) };
  },
  async lease(task, job) {
    return { artifacts: {}, items: itemsOf(job.spec.items, task) };
  },
  async verify(task, outputs, job): Promise<Verdict> {
    const items = itemsOf(job.spec.items, task);
    if (outputs.length !== items.length) {
      return refuse(
        "RESULT_WRONG_COUNT",
        `expected ${items.length} outputs, got ${outputs.length}`,
      );
    }
    const digests: string[] = [];
    for (const output of outputs) {
      const parsed = HashOutput.safeParse(output);
      if (!parsed.success)
        return refuse("RESULT_MALFORMED", "a hash output is not { digest: <64 hex> }");
      digests.push(parsed.data.digest);
    }
    const recomputed = await context.verifyPool.run<string[]>(BENCHMARK_WORK, { items });
    const wrong = recomputed.findIndex((digest, i) => digest !== digests[i]);
    return wrong === -1
      ? { ok: true }
      : refuse("RESULT_WRONG", `item ${wrong}: the digest does not match the recomputation`);
  },
  async result(_job, tasks) {
    return { outputs: concatOutputs(tasks) };
  },
});
