import { costCu } from "@dpn/protocol";
import type { JobSubmit } from "@dpn/wire";
import { invalidOption, type JobSpecBuilder } from "./kind.ts";

/** Light-layer feature release under local DP (the input of `fl-train --features <job>`). */
export const flFeaturesSpec: JobSpecBuilder<"fl-features"> = {
  type: "fl-features",
  async build(_client, o) {
    const featureEpsilon = Number(o.epsilon ?? "2.5");
    const labelEpsilon = o.labelEpsilon === undefined ? undefined : Number(o.labelEpsilon);
    for (const [name, value] of [
      ["--epsilon", featureEpsilon],
      ["--label-epsilon", labelEpsilon],
    ] as const) {
      if (value !== undefined && !(value > 0 && value <= 4)) {
        throw invalidOption(
          `${name} must be in (0, 4].`,
          "One release may spend at most ε = 4 (features and labels together).",
        );
      }
    }
    const partitions = (o.partitions ?? "pacific,south-atlantic,middle-atlantic,east-north-central")
      .split(",")
      .filter((p) => p !== "");
    const spec: JobSubmit["spec"] = {
      type: "fl-features",
      dataset: "flights-regions/v1",
      partitions,
      featureEpsilon,
      ...(labelEpsilon === undefined ? {} : { labelEpsilon }),
      samplesPerTask: 1_500,
    };
    return {
      spec,
      cu: partitions.length * costCu({ type: "sql-analytics", rows: 1_500, columns: 17 }),
    };
  },
};
