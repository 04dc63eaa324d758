import { describe, expect, it } from "vitest";
import { DeviceLanes } from "./lanes.ts";

function held(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe("device lanes", () => {
  it("runs one device's work one at a time, in order, and other devices' beside it", async () => {
    const lanes = new DeviceLanes(1);
    const order: string[] = [];
    const first = held();
    const a1 = lanes.run("a", async () => {
      order.push("a1");
      await first.promise;
    });
    const a2 = lanes.run("a", async () => {
      order.push("a2");
    });
    const b1 = lanes.run("b", async () => {
      order.push("b1");
    });
    await b1;
    expect(order).toEqual(["a1", "b1"]);
    expect(lanes.running("a")).toBe(1);
    first.release();
    await Promise.all([a1, a2]);
    expect(order).toEqual(["a1", "b1", "a2"]);
    expect(lanes.running("a")).toBe(0);
  });

  it("passes the place on when work fails", async () => {
    const lanes = new DeviceLanes(1);
    const failing = lanes.run("a", async () => {
      throw new Error("verifier failed");
    });
    const next = lanes.run("a", async () => "ran");
    await expect(failing).rejects.toThrow("verifier failed");
    expect(await next).toBe("ran");
  });
});
