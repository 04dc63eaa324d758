import {
  costCu,
  DP_BUDGET_EXCEEDED,
  DpnError,
  isDpnError,
  type Rng,
  seededRng,
} from "@dpn/protocol";
import { fedAsyncAlpha, fedAsyncMix, type StalenessFunction } from "../aggregation/fedAsync.ts";
import { type AggregationRule, aggregateUpdates, type Contribution } from "../aggregation/rules.ts";
import {
  type Compression,
  decodeUpdate,
  encodedBytes,
  encodeUpdate,
  encodeWithFeedback,
} from "../compression.ts";
import type { Dataset } from "../dataset.ts";
import { FL_INVALID_SIMULATION, FL_UPDATE_NORM_EXCEEDED } from "../errors.ts";
import type { Trainer } from "../executors/pool.ts";
import { type PrivacyAccountant, privatizeUpdate, type UpdatePrivacy } from "../localDp.ts";
import { initialWeights } from "../model.ts";
import { type ModelSpec, parameterCount } from "../modelSpec.ts";
import { evaluate, type LocalTrainResult } from "../train.ts";
import type { TrainConfig } from "../trainConfig.ts";
import { boundUpdateNorm, checkUpdate, type NormPolicy } from "../updateBounds.ts";
import { addScaled, scaled } from "../vectors.ts";
import type { SimDevice } from "./fleet.ts";

/**
 * Federated training in simulated time. Training is real (tfjs-wasm, in the Trainer's threads)
 * and deterministic for a seed; time is simulated: a task takes
 *
 *   latency + costCu(fl-train: parameters, samples, epochs) / speed + encoded bytes / uplink
 *
 * seconds, so wall-clock noise never reaches the results and "time to target accuracy" of sync
 * and async schedules is comparable run to run. Events are processed in simulated-time order
 * while the Trainer computes all in-flight tasks in parallel.
 */

export interface SimulationOptions {
  readonly spec: ModelSpec;
  readonly config: TrainConfig;
  readonly devices: readonly SimDevice[];
  /** Held-out data the global model is scored on after every aggregation. */
  readonly test: Dataset;
  readonly seed: string;
  readonly trainer: Trainer;
  /** Start here instead of initialWeights(spec, seed). */
  readonly initialWeights?: Float32Array;
  /** How devices encode updates (default none: dense float32). */
  readonly compression?: Compression;
  /** Devices keep what compression dropped and add it to their next update. */
  readonly errorFeedback?: boolean;
  /** Server-side L2 bound on every decoded update. */
  readonly normBound?: { readonly maxNorm: number; readonly policy: NormPolicy };
  /** Device-side local DP on every update, charged to the accountant per device and data set. */
  readonly privacy?: { readonly update: UpdatePrivacy; readonly accountant: PrivacyAccountant };
  /** Stop once the global model reaches this test accuracy. */
  readonly stopAtAccuracy?: number;
  /** Stop at this simulated time. */
  readonly maxTimeS?: number;
}

export interface SyncOptions extends SimulationOptions {
  readonly rounds: number;
  readonly devicesPerRound: number;
  /** Updates arriving later than this after the round starts are dropped (default: wait for all). */
  readonly roundDeadlineS?: number;
  readonly aggregation?: AggregationRule;
  /** global += serverLearningRate · aggregate (default 1: plain FedAvg). */
  readonly serverLearningRate?: number;
}

export interface AsyncOptions extends SimulationOptions {
  /** Updates to apply before stopping. */
  readonly maxUpdates: number;
  /** Devices training at once; a finished device is replaced by a random idle one. */
  readonly concurrency: number;
  /** FedAsync's α and staleness function s(τ). */
  readonly alpha: number;
  readonly staleness: StalenessFunction;
  /** Score the global model every this many applied updates (default 1). */
  readonly evalEvery?: number;
}

export interface CurvePoint {
  readonly timeS: number;
  readonly accuracy: number;
  readonly loss: number;
  /** Updates applied to the global model so far. */
  readonly updates: number;
}

export interface SimulationResult {
  readonly mode: "sync" | "async";
  readonly curve: readonly CurvePoint[];
  readonly weights: Float32Array;
  readonly accuracy: number;
  readonly timeS: number;
  /** Local trainings computed, applied or not. */
  readonly tasks: number;
  readonly applied: number;
  /** Sync: updates that missed the round deadline. */
  readonly late: number;
  /** Updates refused by the norm bound (policy "reject"). */
  readonly rejected: number;
  /** Devices that could not afford another private release and were no longer asked. */
  readonly exhaustedDevices: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Largest staleness τ seen (async). */
  readonly maxStaleness: number;
}

/** The first simulated time at which the curve reaches `accuracy`, or undefined. */
export function timeToAccuracy(curve: readonly CurvePoint[], accuracy: number): number | undefined {
  return curve.find((point) => point.accuracy >= accuracy)?.timeS;
}

/** Simulated seconds one device needs for one task (model fetch to update delivered). */
export function taskSeconds(
  device: SimDevice,
  spec: ModelSpec,
  config: TrainConfig,
  compression: Compression,
): number {
  const parameters = parameterCount(spec);
  const cu = costCu({
    type: "fl-train",
    parameters,
    samples: device.data.rows,
    epochs: config.epochs,
  });
  return (
    device.latencyS +
    cu / device.speedCuPerS +
    encodedBytes(parameters, compression) / device.uplinkBytesPerS
  );
}

/** Shared state of one run: the device-side release pipeline and the server-side admission. */
class Run {
  readonly parameters: number;
  readonly compression: Compression;
  readonly residuals = new Map<string, Float32Array>();
  readonly exhausted = new Set<string>();
  readonly releases = new Map<string, number>();
  bytesBefore = 0;
  bytesAfter = 0;
  rejected = 0;
  tasks = 0;

  constructor(readonly options: SimulationOptions) {
    if (options.devices.length === 0) {
      throw new DpnError(FL_INVALID_SIMULATION, "A simulation needs at least one device.");
    }
    this.parameters = parameterCount(options.spec);
    this.compression = options.compression ?? { kind: "none" };
  }

  start(): Float32Array {
    const weights =
      this.options.initialWeights ?? initialWeights(this.options.spec, this.options.seed);
    return checkUpdate(new Float32Array(weights), this.parameters);
  }

  train(device: SimDevice, weights: Float32Array, tag: string): Promise<LocalTrainResult> {
    this.tasks += 1;
    const { spec, config, seed } = this.options;
    return this.options.trainer.train({
      spec,
      config,
      weights,
      data: device.data,
      seed: `${seed}/${tag}/${device.id}`,
    });
  }

  /** Can the device afford one more private release? */
  canRelease(device: SimDevice): boolean {
    const privacy = this.options.privacy;
    if (privacy === undefined) return true;
    if (this.exhausted.has(device.id)) return false;
    const left = privacy.accountant.remaining(device.id, device.datasetId);
    const ok = left.epsilon >= privacy.update.epsilon && left.delta >= privacy.update.delta;
    if (!ok) this.exhausted.add(device.id);
    return ok;
  }

  /**
   * What the server decodes from a device's result: attack (if any), local DP, encoding, then
   * server-side decoding, shape/finiteness check and norm bound. Undefined when refused.
   */
  release(device: SimDevice, result: LocalTrainResult): Float32Array | undefined {
    let update = result.update;
    if (device.attack !== undefined) update = scaled(update, -device.attack.scale);
    const count = (this.releases.get(device.id) ?? 0) + 1;
    this.releases.set(device.id, count);
    const rng = (purpose: string): Rng =>
      seededRng(`${this.options.seed}/${purpose}/${device.id}/${count}`);
    const privacy = this.options.privacy;
    if (privacy !== undefined) {
      try {
        update = privatizeUpdate(update, privacy.update, {
          accountant: privacy.accountant,
          deviceId: device.id,
          datasetId: device.datasetId,
          rng: rng("dp"),
        }).update;
      } catch (error) {
        if (!isDpnError(error, DP_BUDGET_EXCEEDED)) throw error;
        this.exhausted.add(device.id);
        return undefined;
      }
    }
    let bytes: Uint8Array;
    if (this.options.errorFeedback === true) {
      const out = encodeWithFeedback(
        update,
        this.residuals.get(device.id),
        this.compression,
        rng("q"),
      );
      this.residuals.set(device.id, out.residual);
      bytes = out.encoded.bytes;
      this.count(out.encoded.bytesBefore, out.encoded.bytesAfter);
    } else {
      const encoded = encodeUpdate(update, this.compression, rng("q"));
      bytes = encoded.bytes;
      this.count(encoded.bytesBefore, encoded.bytesAfter);
    }
    // Server side from here: it sees only the bytes.
    const decoded = checkUpdate(decodeUpdate(bytes, this.parameters), this.parameters);
    const bound = this.options.normBound;
    if (bound === undefined) return decoded;
    try {
      return boundUpdateNorm(decoded, bound.maxNorm, bound.policy).update;
    } catch (error) {
      if (!isDpnError(error, FL_UPDATE_NORM_EXCEEDED)) throw error;
      this.rejected += 1;
      return undefined;
    }
  }

  count(before: number, after: number): void {
    this.bytesBefore += before;
    this.bytesAfter += after;
  }

  seconds(device: SimDevice): number {
    return taskSeconds(device, this.options.spec, this.options.config, this.compression);
  }

  async score(weights: Float32Array, timeS: number, updates: number): Promise<CurvePoint> {
    const e = await evaluate(this.options.spec, weights, this.options.test);
    return { timeS, accuracy: e.accuracy, loss: e.loss, updates };
  }

  reached(point: CurvePoint): boolean {
    const target = this.options.stopAtAccuracy;
    return target !== undefined && point.accuracy >= target;
  }
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new DpnError(
      FL_INVALID_SIMULATION,
      `${name} must be an integer in [1, ${max}], got ${value}.`,
    );
  }
}

/** k distinct picks from `items` (partial Fisher–Yates). */
function sample<T>(items: readonly T[], k: number, rng: Rng): T[] {
  const pool = [...items];
  const out: T[] = [];
  for (let i = 0; i < k && pool.length > 0; i++) {
    const j = rng.nextInt(pool.length);
    out.push(pool[j] as T);
    pool[j] = pool[pool.length - 1] as T;
    pool.pop();
  }
  return out;
}

/**
 * Synchronous FedAvg (McMahan et al. 2017): each round samples `devicesPerRound` devices, all
 * start from the global model, and the round closes when the last reports or at the deadline;
 * late updates are dropped, the rest aggregated by `aggregation` (default: sample-weighted mean).
 */
export async function runSync(options: SyncOptions): Promise<SimulationResult> {
  const run = new Run(options);
  positiveInteger("rounds", options.rounds);
  positiveInteger("devicesPerRound", options.devicesPerRound, options.devices.length);
  const deadline = options.roundDeadlineS ?? Number.POSITIVE_INFINITY;
  if (!(deadline > 0)) throw new DpnError(FL_INVALID_SIMULATION, "roundDeadlineS must be > 0.");
  const rule = options.aggregation ?? { kind: "mean" };
  const serverLr = options.serverLearningRate ?? 1;
  const rng = seededRng(`fl/sync/${options.seed}`);
  let weights = run.start();
  let timeS = 0;
  let applied = 0;
  let late = 0;
  const curve: CurvePoint[] = [await run.score(weights, 0, 0)];
  for (let round = 0; round < options.rounds; round++) {
    const eligible = options.devices.filter((device) => run.canRelease(device));
    if (eligible.length === 0) break;
    const chosen = sample(eligible, options.devicesPerRound, rng);
    const start = weights;
    // A device that cannot meet the deadline is dropped whatever it computes, so its training,
    // known to be late from its speed, is counted but not run.
    const onTime = chosen.filter((device) => run.seconds(device) <= deadline);
    late += chosen.length - onTime.length;
    run.tasks += chosen.length - onTime.length;
    let roundS = onTime.length < chosen.length ? deadline : 0;
    const results = await Promise.all(
      onTime.map((device) => run.train(device, start, `r${round}`)),
    );
    const contributions: Contribution[] = [];
    onTime.forEach((device, i) => {
      roundS = Math.max(roundS, run.seconds(device));
      const update = run.release(device, results[i] as LocalTrainResult);
      if (update !== undefined) contributions.push({ update, samples: device.data.rows });
    });
    timeS += roundS;
    if (contributions.length > 0) {
      weights = addScaled(weights, aggregateUpdates(rule, contributions), serverLr);
      applied += contributions.length;
    }
    const point = await run.score(weights, timeS, applied);
    curve.push(point);
    if (run.reached(point) || (options.maxTimeS !== undefined && timeS >= options.maxTimeS)) break;
  }
  return result(run, "sync", curve, weights, { applied, late, maxStaleness: 0 });
}

interface InFlight {
  readonly device: SimDevice;
  readonly base: Float32Array;
  readonly baseVersion: number;
  readonly finishS: number;
  readonly seq: number;
  readonly outcome: Promise<LocalTrainResult>;
}

/**
 * Asynchronous FedAsync: `concurrency` devices train at once; each finished device's model is
 * mixed in at once with weight α·s(τ), and a random idle device starts from the new model.
 */
export async function runAsync(options: AsyncOptions): Promise<SimulationResult> {
  const run = new Run(options);
  positiveInteger("maxUpdates", options.maxUpdates);
  positiveInteger("concurrency", options.concurrency, options.devices.length);
  const evalEvery = options.evalEvery ?? 1;
  positiveInteger("evalEvery", evalEvery);
  fedAsyncAlpha(options.alpha, options.staleness, 0); // validates α and s before any work
  const rng = seededRng(`fl/async/${options.seed}`);
  let weights = run.start();
  let version = 0;
  let applied = 0;
  let maxStaleness = 0;
  let seq = 0;
  let timeS = 0;
  const inFlight: InFlight[] = [];
  const busy = new Set<string>();
  const dispatch = (device: SimDevice, atS: number): void => {
    busy.add(device.id);
    const outcome = run.train(device, weights, `u${seq}`);
    // A task still in flight at the end is awaited below; it must not surface as unhandled.
    outcome.catch(() => {});
    inFlight.push({
      device,
      base: weights,
      baseVersion: version,
      finishS: atS + run.seconds(device),
      seq,
      outcome,
    });
    seq += 1;
  };
  const idle = (): SimDevice[] =>
    options.devices.filter((device) => !busy.has(device.id) && run.canRelease(device));
  for (const device of sample(idle(), options.concurrency, rng)) dispatch(device, 0);
  const curve: CurvePoint[] = [await run.score(weights, 0, 0)];
  try {
    while (inFlight.length > 0 && applied < options.maxUpdates) {
      inFlight.sort((a, b) => a.finishS - b.finishS || a.seq - b.seq);
      const task = inFlight.shift() as InFlight;
      if (options.maxTimeS !== undefined && task.finishS > options.maxTimeS) break;
      timeS = task.finishS;
      busy.delete(task.device.id);
      const update = run.release(task.device, await task.outcome);
      if (update !== undefined) {
        const staleness = version - task.baseVersion;
        maxStaleness = Math.max(maxStaleness, staleness);
        const deviceModel = addScaled(task.base, update, 1);
        weights = fedAsyncMix(
          weights,
          deviceModel,
          fedAsyncAlpha(options.alpha, options.staleness, staleness),
        );
        version += 1;
        applied += 1;
        if (applied % evalEvery === 0 || applied === options.maxUpdates) {
          const point = await run.score(weights, timeS, applied);
          curve.push(point);
          if (run.reached(point)) break;
        }
      }
      const next = sample(idle(), 1, rng)[0];
      if (next !== undefined) dispatch(next, timeS);
    }
  } finally {
    // Not aborted: aborting a running piscina task ends its thread (and its warm wasm backend),
    // which costs more than the few tasks still in flight.
    await Promise.allSettled(inFlight.map((task) => task.outcome));
  }
  return result(run, "async", curve, weights, { applied, late: 0, maxStaleness });
}

function result(
  run: Run,
  mode: "sync" | "async",
  curve: readonly CurvePoint[],
  weights: Float32Array,
  counts: { applied: number; late: number; maxStaleness: number },
): SimulationResult {
  const last = curve[curve.length - 1] as CurvePoint;
  return {
    mode,
    curve,
    weights,
    accuracy: last.accuracy,
    timeS: last.timeS,
    tasks: run.tasks,
    applied: counts.applied,
    late: counts.late,
    rejected: run.rejected,
    exhaustedDevices: run.exhausted.size,
    bytesBefore: run.bytesBefore,
    bytesAfter: run.bytesAfter,
    maxStaleness: counts.maxStaleness,
  };
}
