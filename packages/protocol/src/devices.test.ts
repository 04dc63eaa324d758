import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { costCu } from "./computeUnits.ts";
import {
  classifyDevice,
  DEFAULT_DEVICE_CLASS_PARAMS,
  DEVICE_CLASSES,
  heavyFromCuPerSec,
  layerOf,
  sustainedDelivery,
} from "./devices.ts";
import { isEligible, TASK_TYPES } from "./taskTypes.ts";
import { errorCode } from "./testing.ts";

describe("device classes and layers (§3.5)", () => {
  it("puts phones and IoT in the light layer, servers and vehicles in the heavy one", () => {
    expect(classifyDevice("phone", 2).layer).toBe("light");
    expect(classifyDevice("iot", 0.5).layer).toBe("light");
    expect(classifyDevice("server", 64).layer).toBe("heavy");
    expect(classifyDevice("vehicle", 8).layer).toBe("heavy");
  });

  it("decides a PC's layer by its parallel throughput and the memory it proved", () => {
    // A quarter of a reference core: any ordinary PC measured over its cores reaches it.
    expect(classifyDevice("pc", 0.1).layer).toBe("light");
    expect(classifyDevice("pc", { cuPerSec: 2.4, lanes: 2, memoryMiB: 64 })).toMatchObject({
      deviceClass: "pc",
      layer: "heavy",
      reason: "pc measured 2.4 CU/s over 2 lanes: heavy layer (heavy from 0.25 CU/s)",
    });
    // Fast enough but short of the heavy layer's memory: light, and the reason says so.
    const short = classifyDevice("pc", { cuPerSec: 2.4, lanes: 2, memoryMiB: 0 });
    expect(short.layer).toBe("light");
    expect(short.reason).toMatch(/proved 0 MiB of the 64 MiB/);
  });

  it("says a farm is a rig from its throughput over all lanes, whatever class it declares", () => {
    // Each lane runs at one ordinary core's speed; 256 of them at once is no server.
    const farm = classifyDevice("server", { cuPerSec: 300, lanes: 256, memoryMiB: 64 });
    expect(farm).toMatchObject({ declaredClass: "server", deviceClass: "rig", layer: "heavy" });
    expect(farm.reason).toBe(
      "measured 300 CU/s over 256 lanes, above the server envelope of 256 CU/s: classified as a rig",
    );
    expect(isEligible(farm, "zk-groth16")).toBe(false);
  });

  it("decides a browser tab's layer by its benchmark, from a quarter of a reference core", () => {
    expect(DEFAULT_DEVICE_CLASS_PARAMS.heavyBrowserMinCuPerSec).toBe(0.25);
    // A slow tab (a phone's browser answering in JavaScript) stays light.
    expect(classifyDevice("browser", 0.1).layer).toBe("light");
    // Chromium's Web Worker on the reference machine measures about 0.7 CU/s: heavy, not a rig.
    const desktop = classifyDevice("browser", 0.7);
    expect(desktop).toMatchObject({ deviceClass: "browser", layer: "heavy", longTail: true });
    expect(desktop.reason).toBe(
      "browser measured 0.7 CU/s over 1 lane: heavy layer (heavy from 0.25 CU/s)",
    );
    expect(isEligible(desktop, "zk-groth16")).toBe(true);
    // Above the browser ceiling (8 CU/s) it is no browser: a rig, and off high-value work.
    const fake = classifyDevice("browser", 9);
    expect(fake.deviceClass).toBe("rig");
    expect(isEligible(fake, "zk-groth16")).toBe(false);
    // Governance can keep every tab light by raising the threshold above the ceiling.
    const lightOnly = { ...DEFAULT_DEVICE_CLASS_PARAMS, heavyBrowserMinCuPerSec: 100 };
    expect(classifyDevice("browser", 8, lightOnly).layer).toBe("light");
  });

  it("never makes a phone or an IoT device heavy, whatever its benchmark", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("phone" as const, "iot" as const),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (deviceClass, cu) => {
          const result = classifyDevice(deviceClass, cu);
          expect(result.deviceClass === "rig" || result.layer === "light").toBe(true);
        },
      ),
    );
  });

  it("makes the layer monotone in the benchmark: a faster device is never demoted", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DEVICE_CLASSES),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 64, noNaN: true }),
        fc.double({ min: 0, max: 64, noNaN: true }),
        (deviceClass, a, b, heavyPcMinCuPerSec, heavyBrowserMinCuPerSec) => {
          const params = {
            ...DEFAULT_DEVICE_CLASS_PARAMS,
            heavyPcMinCuPerSec,
            heavyBrowserMinCuPerSec,
          };
          const [slow, fast] = a <= b ? [a, b] : [b, a];
          if (layerOf(deviceClass, slow, params) === "heavy")
            expect(layerOf(deviceClass, fast, params)).toBe("heavy");
          // The threshold is exactly where the layer changes.
          const from = heavyFromCuPerSec(deviceClass, params);
          expect(layerOf(deviceClass, fast, params)).toBe(fast >= from ? "heavy" : "light");
        },
      ),
    );
  });

  it("classifies a browser heavy exactly between its threshold and its ceiling", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 64, noNaN: true }),
        fc.double({ min: 0, max: 16, noNaN: true }),
        (cu, heavyBrowserMinCuPerSec) => {
          const params = { ...DEFAULT_DEVICE_CLASS_PARAMS, heavyBrowserMinCuPerSec };
          const result = classifyDevice("browser", cu, params);
          const ceiling = params.ceilingCuPerSec.browser;
          if (cu > ceiling) expect(result.deviceClass).toBe("rig");
          else
            expect(result).toMatchObject({
              deviceClass: "browser",
              layer: cu >= heavyBrowserMinCuPerSec ? "heavy" : "light",
              longTail: true,
            });
        },
      ),
    );
  });

  it("treats a device faster than its class allows as a rig", () => {
    const liar = classifyDevice("phone", 500);
    expect(liar.deviceClass).toBe("rig");
    expect(liar.longTail).toBe(false);
    expect(liar.reason).toMatch(/above the phone envelope of 8 CU\/s: classified as a rig/);
  });

  it("marks phones, IoT, browsers and vehicles as long-tail", () => {
    const longTail = DEVICE_CLASSES.filter((c) => classifyDevice(c, 0).longTail);
    expect(longTail).toEqual(["phone", "iot", "browser", "vehicle"]);
  });

  it("never grants more than the declared class: the result is the declared class or a rig", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DEVICE_CLASSES),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (declared, cu) => {
          const result = classifyDevice(declared, cu);
          expect([declared, "rig"]).toContain(result.deviceClass);
          if (result.deviceClass === "rig") {
            expect(
              TASK_TYPES.filter((t) => isEligible(result, t)).every(
                (t) => t !== "zk-groth16" && t !== "fl-train",
              ),
            ).toBe(true);
          }
        },
      ),
    );
  });

  it("rejects an unknown class with a stable code", () => {
    expect(errorCode(() => classifyDevice("toaster", 1))).toBe("PROTOCOL_UNKNOWN_DEVICE_CLASS");
  });
});

describe("task classification (§3.2)", () => {
  it("keeps rigs to low-value work", () => {
    const rig = { deviceClass: "rig" as const, layer: "heavy" as const };
    expect(TASK_TYPES.filter((t) => isEligible(rig, t))).toEqual([
      "sql-analytics",
      "render",
      "hash",
    ]);
  });

  it("keeps light devices off heavy work", () => {
    const phone = { deviceClass: "phone" as const, layer: "light" as const };
    expect(isEligible(phone, "zk-groth16")).toBe(false);
    expect(isEligible(phone, "fl-train")).toBe(false);
    expect(isEligible(phone, "sql-analytics")).toBe(true);
    const server = { deviceClass: "server" as const, layer: "heavy" as const };
    expect(TASK_TYPES.every((t) => isEligible(server, t))).toBe(true);
  });
});

describe("compute units", () => {
  it("prices each task type by its cost model", () => {
    expect(costCu({ type: "hash", iterations: 1_000_000 })).toBe(2);
    // 16 proofs of a 2^12-constraint circuit: 16 × (0.1 + 2e-5 × 4096 × 12) CU.
    expect(costCu({ type: "zk-groth16", constraints: 4096, proofs: 16 })).toBeCloseTo(17.32864, 9);
    // An MLP of 101,770 parameters on 10,000 samples for 1 epoch: 6 × 101,770 × 10^4 / 2.5e9.
    expect(
      costCu({ type: "fl-train", parameters: 101_770, samples: 10_000, epochs: 1 }),
    ).toBeCloseTo(2.44248, 9);
    expect(costCu({ type: "sql-analytics", rows: 3_000_000, columns: 5 })).toBeCloseTo(0.15, 12);
    expect(costCu({ type: "render", pixels: 64 * 64, samplesPerPixel: 16 })).toBeCloseTo(
      0.032768,
      12,
    );
  });

  it("is finite, non-negative and grows with the amount of work", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 24 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        (constraints, proofs, more) => {
          const one = costCu({ type: "zk-groth16", constraints, proofs });
          const bigger = costCu({ type: "zk-groth16", constraints, proofs: proofs + more });
          const larger = costCu({ type: "zk-groth16", constraints: constraints + more, proofs });
          expect(Number.isFinite(one) && one > 0).toBe(true);
          expect(bigger).toBeGreaterThan(one);
          expect(larger).toBeGreaterThanOrEqual(one);
        },
      ),
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e15, noNaN: true }), (iterations) => {
        const cu = costCu({ type: "hash", iterations });
        expect(Number.isFinite(cu) && cu >= 0).toBe(true);
      }),
    );
  });

  it("rejects nonsense work", () => {
    expect(errorCode(() => costCu({ type: "zk-groth16", constraints: 0, proofs: 1 }))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
    expect(errorCode(() => costCu({ type: "hash", iterations: -5 }))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
  });
});

describe("sustained delivery (§3.2: a measurement held back is found out by the work)", () => {
  const params = {
    ...DEFAULT_DEVICE_CLASS_PARAMS,
    sustainedWindowMs: 10_000,
    sustainedTolerance: 2,
  };
  const base = { deviceClass: "pc" as const, measuredCuPerSec: 1, nowMs: 1_000 };

  it("allows tolerance × measured throughput over a whole window, however bursty", () => {
    // 1 CU/s × 2 × 10 s = 20 CU per window: 20 CU at once is within, 20.5 is not.
    const burst = sustainedDelivery({ ...base, window: undefined, cu: 20 }, params);
    expect(burst).toEqual({ kind: "within", window: { startMs: 1_000, cu: 20 } });
    const over = sustainedDelivery(
      { ...base, window: burst.window, cu: 0.5, nowMs: 2_000 },
      params,
    );
    expect(over.kind).toBe("exceeds");
    if (over.kind === "exceeds") {
      expect(over.reason).toBe(
        "delivered 20.5 CU within 10 s, more than 2× its measured 1 CU/s allows (20 CU): classified as a rig",
      );
    }
  });

  it("starts a new window once the window has passed", () => {
    const first = sustainedDelivery({ ...base, window: undefined, cu: 19 }, params);
    const next = sustainedDelivery(
      { ...base, window: first.window, cu: 19, nowMs: 11_000 },
      params,
    );
    expect(next).toEqual({ kind: "within", window: { startMs: 11_000, cu: 19 } });
  });

  it("caps the allowance at the class's envelope, and leaves rigs alone", () => {
    const fast = { ...base, deviceClass: "phone" as const, measuredCuPerSec: 7, window: undefined };
    // 7 × 2 = 14 CU/s would allow 140 CU; the phone envelope (8 CU/s) allows 80.
    const verdict = sustainedDelivery({ ...fast, cu: 81 }, params);
    expect(verdict.kind === "exceeds" && verdict.reason).toMatch(/the phone envelope of 8 CU\/s/);
    const rig = { ...base, deviceClass: "rig" as const, window: undefined, cu: 1e9 };
    expect(sustainedDelivery(rig, params).kind).toBe("within");
  });
});
