import { runFragmentQuery } from "@dpn/analytics";
import { DpnError } from "@dpn/protocol";
import { DEVICE_TASK_INVALID } from "../errors.ts";
import type { Executor } from "./kind.ts";

/**
 * `sql-analytics`: the query over the one data fragment the lease names, in a locked-down
 * in-memory DuckDB (@dpn/analytics), in this process: DuckDB computes on its own native thread,
 * so the event loop stays free. The output is the canonical partial aggregate and its digest.
 */
export const sqlAnalyticsExecutor: Executor<"sql-analytics"> = {
  type: "sql-analytics",
  async run(lease, { cache, handles }) {
    const sha = lease.artifacts.fragment;
    const [item] = lease.items;
    if (
      sha === undefined ||
      item === undefined ||
      lease.items.length !== 1 ||
      item.sha256 !== sha
    ) {
      throw new DpnError(
        DEVICE_TASK_INVALID,
        "An analytics lease needs one fragment artifact and its item.",
        {
          hint: "This is a node bug; the lease is dropped and will expire.",
        },
      );
    }
    const file = await cache.acquire(sha);
    handles.push(file);
    const { partial, digest } = await runFragmentQuery(
      { path: file.path, format: item.format },
      item.query,
    );
    return [{ partial, digest }];
  },
};
