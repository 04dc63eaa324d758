import { DpnError } from "@dpn/protocol";
import { DEVICE_TASK_INVALID } from "../errors.ts";
import type { Executor } from "./kind.ts";

/** `render`: this agent does not render yet (it never offers the kind, so no lease arrives). */
export const renderExecutor: Executor<"render"> = {
  type: "render",
  async run() {
    throw new DpnError(DEVICE_TASK_INVALID, "This agent does not render.", {
      hint: "Run an agent with Blender installed.",
    });
  },
};
