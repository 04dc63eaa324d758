import { DpnError } from "@dpn/protocol";
import type { KindFactory } from "../kind.ts";

/** `render`: not served until the renderer lands (this node refuses render jobs with a code). */
export const renderKind: KindFactory<"render"> = () => ({
  type: "render",
  async plan() {
    throw new DpnError("JOB_KIND_UNAVAILABLE", "This node does not serve render jobs yet.", {
      hint: "Submit another kind of job.",
    });
  },
  async lease() {
    throw new Error("render leases are not built yet");
  },
  async verify() {
    return { ok: false, code: "JOB_KIND_UNAVAILABLE", reason: "render is not served yet" };
  },
  async result() {
    return { outputs: [] };
  },
});
