import { DEFAULT_PRIVACY_PARAMS, seededRng } from "@dpn/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { weightedMean } from "../aggregation/fedAvg.ts";
import { loadFlights, partitionByRegion } from "../data/flights.ts";
import { type Dataset, selectRows, shuffledIndices } from "../dataset.ts";
import { FL_INVALID_SIMULATION } from "../errors.ts";
import { createInlineTrainer } from "../executors/pool.ts";
import { PrivacyAccountant } from "../localDp.ts";
import { initialWeights } from "../model.ts";
import { parseModelSpec } from "../modelSpec.ts";
import { rejectionCode } from "../testing.ts";
import { trainLocal } from "../train.ts";
import { parseTrainConfig } from "../trainConfig.ts";
import { addScaled } from "../vectors.ts";
import { makeFleet, type SimDevice } from "./fleet.ts";
import { runAsync, runSync, taskSeconds, timeToAccuracy } from "./runner.ts";

const spec = parseModelSpec({ kind: "logistic", inputs: 17, classes: 2 });
const config = parseTrainConfig({ learningRate: 0.2, batchSize: 32, epochs: 1 });
const trainer = createInlineTrainer();
let devices: SimDevice[];
let test: Dataset;

beforeAll(async () => {
  const flights = await loadFlights({ rows: 4000, seed: "runner", balanced: true });
  const order = shuffledIndices(flights.dataset.rows, seededRng("runner/split"));
  test = selectRows(flights.dataset, order.subarray(0, 1000));
  const trainRows = order.subarray(1000);
  const train = {
    dataset: selectRows(flights.dataset, trainRows),
    region: Uint8Array.from(trainRows, (row) => flights.region[row] as number),
    sourceRow: flights.sourceRow,
  };
  devices = makeFleet(
    partitionByRegion(train, 1).map((part) => selectRows(train.dataset, part.rows)),
    { seed: "runner", minSpeedCuPerS: 1e-5, speedSpread: 10, uplinkBytesPerS: 1e5, latencyS: 0.1 },
  );
});

const base = () => ({ spec, config, devices, test, seed: "runner", trainer });

describe("simulated-time federated training", () => {
  it("one FedAvg round over every device is the sample-weighted mean of their updates", async () => {
    const run = await runSync({ ...base(), rounds: 1, devicesPerRound: devices.length });
    const start = initialWeights(spec, "runner");
    const updates = await Promise.all(
      devices.map((device) =>
        trainLocal({
          spec,
          config,
          weights: start,
          data: device.data,
          seed: `runner/r0/${device.id}`,
        }),
      ),
    );
    const expected = addScaled(
      start,
      weightedMean(
        updates.map((u) => u.update),
        devices.map((d) => d.data.rows),
      ),
      1,
    );
    expect(run.weights).toEqual(expected);
    expect(run.timeS).toBeCloseTo(
      Math.max(...devices.map((d) => taskSeconds(d, spec, config, { kind: "none" }))),
      9,
    );
  });

  it("sync FedAvg improves accuracy and repeats exactly for a seed", async () => {
    const options = { ...base(), rounds: 6, devicesPerRound: 5 };
    const a = await runSync(options);
    const b = await runSync(options);
    expect(b.curve).toEqual(a.curve);
    expect(b.weights).toEqual(a.weights);
    const first = a.curve[0];
    const last = a.curve[a.curve.length - 1];
    expect(last?.loss).toBeLessThan((first?.loss ?? 0) - 0.01);
    expect(a.accuracy).toBeGreaterThan((first?.accuracy ?? 1) + 0.02);
    expect(a.applied).toBe(30);
  });

  it("drops the updates of devices slower than the round deadline", async () => {
    const seconds = devices.map((d) => taskSeconds(d, spec, config, { kind: "none" }));
    const deadline = [...seconds].sort((x, y) => x - y)[Math.floor(devices.length / 2)] as number;
    const run = await runSync({
      ...base(),
      rounds: 3,
      devicesPerRound: devices.length,
      roundDeadlineS: deadline,
    });
    const late = seconds.filter((s) => s > deadline).length;
    expect(late).toBeGreaterThan(0);
    expect(run.late).toBe(3 * late);
    expect(run.applied).toBe(3 * (devices.length - late));
    expect(run.timeS).toBeCloseTo(3 * deadline, 9);
  });

  it("async FedAsync mixes updates in simulated-time order, with staleness", async () => {
    const options = {
      ...base(),
      maxUpdates: 40,
      concurrency: 4,
      alpha: 0.6,
      staleness: { kind: "polynomial", a: 0.5 } as const,
    };
    const a = await runAsync(options);
    const b = await runAsync(options);
    expect(b.curve).toEqual(a.curve);
    expect(a.applied).toBe(40);
    expect(a.maxStaleness).toBeGreaterThan(0);
    const times = a.curve.map((p) => p.timeS);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(a.accuracy).toBeGreaterThan((a.curve[0]?.accuracy ?? 1) + 0.03);
    expect(timeToAccuracy(a.curve, 0)).toBe(0);
    expect(timeToAccuracy(a.curve, 1.01)).toBeUndefined();
  });

  it("stops asking devices whose privacy budget is spent", async () => {
    const accountant = new PrivacyAccountant({ ...DEFAULT_PRIVACY_PARAMS, totalEpsilon: 1 });
    const run = await runSync({
      ...base(),
      rounds: 10,
      devicesPerRound: devices.length,
      privacy: { accountant, update: { clipNorm: 0.5, epsilon: 0.5, delta: 1e-8 } },
    });
    // ε = 1 buys two releases of 0.5 per device; then every device is exhausted.
    expect(run.applied).toBe(2 * devices.length);
    expect(run.exhaustedDevices).toBe(devices.length);
    for (const device of devices) {
      expect(accountant.budget(device.id, device.datasetId).releases).toBe(2);
    }
  });

  it("rejects updates over the norm bound and counts the bytes compression saves", async () => {
    const attacked = devices.map((d, i) =>
      i < 2 ? { ...d, attack: { kind: "signFlip", scale: 1000 } as const } : d,
    );
    const run = await runSync({
      ...base(),
      devices: attacked,
      rounds: 1,
      devicesPerRound: devices.length,
      normBound: { maxNorm: 5, policy: "reject" },
      compression: { kind: "quantize8" },
    });
    expect(run.rejected).toBe(2);
    expect(run.applied).toBe(devices.length - 2);
    expect(run.bytesBefore).toBe(devices.length * 4 * 18);
    expect(run.bytesAfter).toBe(devices.length * (20 + 18));
  });

  it("refuses impossible schedules", async () => {
    expect(await rejectionCode(runSync({ ...base(), rounds: 1, devicesPerRound: 99 }))).toBe(
      FL_INVALID_SIMULATION,
    );
    expect(
      await rejectionCode(
        runAsync({
          ...base(),
          maxUpdates: 0,
          concurrency: 1,
          alpha: 0.5,
          staleness: { kind: "constant" },
        }),
      ),
    ).toBe(FL_INVALID_SIMULATION);
  });
});
