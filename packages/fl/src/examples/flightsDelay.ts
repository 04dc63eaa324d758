/**
 * Federated training of a flight-delay model over 20 regional devices, synchronous FedAvg and
 * asynchronous FedAsync side by side, in simulated time with real tfjs-wasm training in worker
 * threads. Run from the repository root:
 *
 *   npx tsx packages/fl/src/examples/flightsDelay.ts          # a short report
 *   npx tsx packages/fl/src/examples/flightsDelay.ts --json   # the numbers as JSON
 */

import {
  createTrainerPool,
  FLIGHT_FEATURES,
  loadFlights,
  makeFleet,
  parseModelSpec,
  parseTrainConfig,
  partitionByRegion,
  runAsync,
  runSync,
  selectRows,
  shuffledIndices,
} from "@dpn/fl";
import { seededRng } from "@dpn/protocol";

// 1. Data: 6,000 flights (half of them late), 2,000 held out, the rest split by origin region.
const flights = await loadFlights({ rows: 6000, seed: "example", balanced: true });
const order = shuffledIndices(flights.dataset.rows, seededRng("example/split"));
const test = selectRows(flights.dataset, order.subarray(0, 2000));
const trainRows = order.subarray(2000);
const train = {
  dataset: selectRows(flights.dataset, trainRows),
  region: Uint8Array.from(trainRows, (row) => flights.region[row] as number),
  sourceRow: flights.sourceRow,
};
const parts = partitionByRegion(train, 2).map((part) => selectRows(train.dataset, part.rows));

// 2. A fleet whose speeds differ 10×, and a validated model spec.
const devices = makeFleet(parts, {
  seed: "example",
  minSpeedCuPerS: 1e-5,
  speedSpread: 10,
  uplinkBytesPerS: 100_000,
  latencyS: 0.2,
});
const spec = parseModelSpec({
  kind: "mlp",
  inputs: FLIGHT_FEATURES.length,
  hidden: [16],
  classes: 2,
});
const config = parseTrainConfig({ learningRate: 0.3, batchSize: 32, epochs: 1 });

// 3. Train: local training runs in two worker threads.
const trainer = createTrainerPool({ threads: 2 });
try {
  const common = { spec, config, devices, test, seed: "example", trainer };
  const sync = await runSync({
    ...common,
    rounds: 8,
    devicesPerRound: 10,
    compression: { kind: "topk+quantize8", fraction: 0.25 },
    errorFeedback: true,
    normBound: { maxNorm: 2, policy: "clip" },
  });
  const async = await runAsync({
    ...common,
    maxUpdates: 200,
    concurrency: 10,
    alpha: 0.6,
    staleness: { kind: "polynomial", a: 0.5 },
    evalEvery: 5,
    maxTimeS: sync.timeS,
  });
  const summary = {
    devices: devices.length,
    sync: {
      accuracy: sync.accuracy,
      simulatedS: sync.timeS,
      updates: sync.applied,
      bytesBefore: sync.bytesBefore,
      bytesAfter: sync.bytesAfter,
    },
    async: { accuracy: async.accuracy, simulatedS: async.timeS, updates: async.applied },
  };
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(`${devices.length} devices, test accuracy at chance ≈ 50%`);
    console.log(
      `sync FedAvg:   ${(100 * sync.accuracy).toFixed(1)}% after ${sync.timeS.toFixed(0)} simulated s, ${sync.applied} updates, ${sync.bytesBefore} → ${sync.bytesAfter} bytes uploaded`,
    );
    console.log(
      `async FedAsync: ${(100 * async.accuracy).toFixed(1)}% in the same time, ${async.applied} updates`,
    );
  }
} finally {
  await trainer.destroy();
}
