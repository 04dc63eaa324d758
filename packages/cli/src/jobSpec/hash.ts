import { randomBytes } from "node:crypto";
import { costCu } from "@dpn/protocol";
import { MAX_HASH_ITEM_ITERATIONS } from "@dpn/wire";
import { count, type JobSpecBuilder } from "./kind.ts";

/** Hash work: `--items` seeds, each hashed `--iterations` times. */
export const hashSpec: JobSpecBuilder<"hash"> = {
  type: "hash",
  async build(_client, o) {
    const items = count(o.items, "--items", 64, 10_000);
    const iterations = count(o.iterations, "--iterations", 100_000, MAX_HASH_ITEM_ITERATIONS);
    return {
      spec: {
        type: "hash",
        items: Array.from({ length: items }, () => ({
          seed: randomBytes(32).toString("hex"),
          iterations,
        })),
      },
      cu: items * costCu({ type: "hash", iterations }),
    };
  },
};
