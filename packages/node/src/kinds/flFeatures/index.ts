import { createHash } from "node:crypto";
import * as records from "../../store/records.ts";
import {
  admitFeatureSet,
  featureSetBytes,
  planFeatures,
  requiredHolding,
} from "../federated/model.ts";
import { canRelease, chargeRelease, refuseExhaustedHolders } from "../federated/privacy.ts";
import type { KindFactory } from "../kind.ts";

/**
 * `fl-features` (docs/protocol.md §Federated learning jobs): one light-layer task per partition;
 * the device holding it releases the partition's cleaned features under local DP, charged to its
 * budget when the lease is granted. A released set is stored as an artifact, so training jobs
 * (`features`) lease it by content hash.
 */
export const flFeaturesKind: KindFactory<"fl-features"> = (context) => ({
  type: "fl-features",
  async plan({ spec }) {
    const cu = await planFeatures(spec, context.params.costModel);
    await refuseExhaustedHolders(context, spec);
    return {
      tasks: spec.partitions.map((_, idx) => ({
        idx,
        replica: 0,
        items: [idx, idx + 1] as const,
        cu,
        state: "pending" as const,
      })),
    };
  },
  async accepts(device, task, job) {
    const partition = job.spec.partitions[task.idx] ?? "";
    return (
      device.datasets.includes(requiredHolding(job.spec, partition)) &&
      (await canRelease(context, device.deviceId, job.spec))
    );
  },
  async leased(device, _task, job) {
    await chargeRelease(context, device.deviceId, job.spec);
  },
  async lease(task, job) {
    const { spec } = job;
    return {
      artifacts: {},
      items: [
        {
          dataset: spec.dataset,
          partition: spec.partitions[task.idx] ?? "",
          featureEpsilon: spec.featureEpsilon,
          ...(spec.labelEpsilon === undefined ? {} : { labelEpsilon: spec.labelEpsilon }),
        },
      ],
    };
  },
  async verify(_task, outputs) {
    const admitted = admitFeatureSet(outputs);
    if (!admitted.ok) return admitted;
    const bytes = featureSetBytes(JSON.stringify(outputs));
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (!context.artifacts.has(sha)) {
      context.artifacts.put(bytes, sha);
      await records.recordArtifact(context.store.db, sha, bytes.length, "node", context.now());
    }
    return { ok: true };
  },
  async result(job, tasks) {
    return {
      outputs: tasks.map((t) => ({
        partition: job.spec.partitions[t.idx],
        state: t.state,
        // The released set (noisy features and labels); the raw rows never left the device.
        released:
          t.state !== "done" || t.output_json === null
            ? null
            : (JSON.parse(t.output_json) as Array<{ rows: number; dropped: number }>).map((o) => ({
                rows: o.rows,
                dropped: o.dropped,
                sha256: createHash("sha256")
                  .update(featureSetBytes(t.output_json as string))
                  .digest("hex"),
              }))[0],
      })),
    };
  },
});
