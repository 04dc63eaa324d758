import { isDpnError } from "@dpn/protocol";
import { blenderVersion } from "@dpn/render";
import { describe, expect, it } from "vitest";
import { SUPPORTED_TASK_TYPES } from "../agent.ts";
import { DEVICE_OPTIONS_INVALID } from "../errors.ts";
import { EXECUTORS, offerKinds } from "./registry.ts";

/** The same executors, with render looking for a Blender that is not installed. */
const WITHOUT_BLENDER = {
  ...EXECUTORS,
  render: {
    ...EXECUTORS.render,
    async probe() {
      const blender = await blenderVersion("/nonexistent/blender");
      return blender === undefined ? undefined : { blender };
    },
  },
};

describe("offerKinds", () => {
  it("offers render, with the Blender version, exactly when Blender runs here", async () => {
    const version = await blenderVersion();
    const offer = await offerKinds(SUPPORTED_TASK_TYPES);
    if (version === undefined) {
      expect(offer).toEqual({
        taskTypes: SUPPORTED_TASK_TYPES.filter((t) => t !== "render"),
        capabilities: {},
      });
    } else {
      expect(offer).toEqual({
        taskTypes: SUPPORTED_TASK_TYPES,
        capabilities: { render: { blender: version } },
      });
    }
  });

  it("leaves render out where there is no Blender, and keeps the order asked for", async () => {
    expect(await offerKinds(["render", "sql-analytics", "hash"], WITHOUT_BLENDER)).toEqual({
      taskTypes: ["sql-analytics", "hash"],
      capabilities: {},
    });
  });

  it("refuses to offer nothing", async () => {
    let thrown: unknown;
    try {
      await offerKinds(["render"], WITHOUT_BLENDER);
    } catch (error) {
      thrown = error;
    }
    expect(isDpnError(thrown, DEVICE_OPTIONS_INVALID)).toBe(true);
  });
});
