import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { runFragmentQuery } from "@dpn/analytics";
import {
  createTrainerPool,
  type Dataset,
  decodeFeatureSet,
  EXAMPLE_DATASETS,
  encodeFeatureSet,
  encodeUpdate,
  examplePartition,
  extractPrivateFeatures,
  PrivacyAccountant,
  parseModelSpec,
  parseTrainConfig,
  privatizeUpdate,
  type Trainer,
} from "@dpn/fl";
import { DpnError, isDpnError, seededRng } from "@dpn/protocol";
import {
  AnalyticsOutput,
  CircuitInput,
  DataFragment,
  FeatureSetOutput,
  FlOutput,
  HashItem,
  HashOutput,
  type Lease,
  ProofOutput,
  parseMessage,
  type TaskResult,
} from "@dpn/wire";
import { z } from "zod";
import type { ArtifactCache, ArtifactHandle } from "./artifactCache.ts";
import { DEVICE_OUTPUT_INVALID, DEVICE_TASK_INVALID } from "./errors.ts";
import type { ExecutorPool } from "./executors/pool.ts";
import type { WorkerTask } from "./executors/worker.ts";

export interface LeaseRunner {
  readonly pool: ExecutorPool;
  readonly cache: ArtifactCache;
  /** Whose privacy budget a DP release is charged to (agents in one process keep apart). */
  readonly deviceId?: string;
  /** Where the device keeps its privacy account across restarts (default: memory only). */
  readonly stateDir?: string;
}

function parseItem<T>(
  schema: Parameters<typeof parseMessage<T>>[0],
  item: unknown,
  what: string,
): T {
  try {
    return parseMessage(schema, item, what);
  } catch (error) {
    throw new DpnError(DEVICE_TASK_INVALID, `The node leased a malformed ${what}.`, {
      hint: "This is a node or requester bug; the lease is dropped and will expire.",
      cause: error,
      details: isDpnError(error) ? error.details : {},
    });
  }
}

/** Checks our own output against the message schema before it is signed and sent. */
function checkOutput<T>(schema: Parameters<typeof parseMessage<T>>[0], output: unknown): T {
  try {
    return parseMessage(schema, output, "executor output");
  } catch (error) {
    throw new DpnError(
      DEVICE_OUTPUT_INVALID,
      "An executor produced output the node would reject.",
      {
        hint: "This is a device agent bug; please report it with the log.",
        cause: error,
      },
    );
  }
}

/** Builds the worker tasks of a lease, fetching (and pinning) the artifacts they need. */
async function prepare(
  lease: Lease,
  cache: ArtifactCache,
  handles: ArtifactHandle[],
): Promise<WorkerTask[]> {
  switch (lease.type) {
    case "hash":
      return lease.items.map((item, index) => {
        const { seed, iterations } = parseItem(HashItem, item, `hash item ${index}`);
        return { type: "hash", seed, iterations };
      });
    case "zk-groth16": {
      const inputs = lease.items.map((item, index) =>
        parseItem(CircuitInput, item, `circuit input ${index}`),
      );
      const { wasm, zkey } = lease.artifacts;
      if (wasm === undefined || zkey === undefined) {
        throw new DpnError(DEVICE_TASK_INVALID, "A zk-groth16 lease lacks its wasm or zkey.", {
          hint: "This is a node bug; the lease is dropped and will expire.",
          details: { artifacts: Object.keys(lease.artifacts) },
        });
      }
      // The verification key is not fetched: proving does not need it, the node verifies.
      const [wasmFile, zkeyFile] = await Promise.all([cache.acquire(wasm), cache.acquire(zkey)]);
      handles.push(wasmFile, zkeyFile);
      return inputs.map((input) => ({
        type: "zk-groth16",
        input,
        wasmPath: wasmFile.path,
        zkeyPath: zkeyFile.path,
      }));
    }
    case "sql-analytics":
    case "fl-train":
    case "fl-features":
    case "render":
      throw new DpnError(DEVICE_TASK_INVALID, `${lease.type} leases do not run on the pool.`, {
        hint: "This is a device agent bug.",
      });
  }
}

const TrainingItem = z.strictObject({
  dataset: z.string(),
  partition: z.string(),
  round: z.number().int(),
  weights: z.string(),
  model: z.record(z.string(), z.unknown()),
  train: z.record(z.string(), z.unknown()),
  topK: z.number().positive().max(1),
  seed: z.string(),
  privacy: z.optional(
    z.strictObject({ epsilon: z.number(), delta: z.number(), clipNorm: z.number() }),
  ),
});

/** This device's own account of what it released about each data set it holds. */
const accountant = new PrivacyAccountant();
const loadedAccounts = new Set<string>();

function accountFile(stateDir: string, deviceId: string): string {
  return join(stateDir, `privacy-${deviceId}.json`);
}

/** Loads the device's saved budgets once, so a restart cannot reset what it has released. */
function loadAccount(stateDir: string | undefined, deviceId: string): void {
  if (stateDir === undefined || loadedAccounts.has(deviceId)) return;
  loadedAccounts.add(deviceId);
  let saved: Array<Record<string, string | number>>;
  try {
    saved = JSON.parse(readFileSync(accountFile(stateDir, deviceId), "utf8")) as typeof saved;
  } catch {
    return; // nothing released yet
  }
  for (const b of saved) {
    accountant.restore({
      deviceId: String(b.deviceId),
      datasetId: String(b.datasetId),
      totalEpsilonUnits: BigInt(b.totalEpsilonUnits as string),
      totalDeltaUnits: BigInt(b.totalDeltaUnits as string),
      spentEpsilonUnits: BigInt(b.spentEpsilonUnits as string),
      spentDeltaUnits: BigInt(b.spentDeltaUnits as string),
      releases: Number(b.releases),
    });
  }
}

/** Saves the device's budgets (write then rename: a crash leaves the old or the new file). */
function saveAccount(stateDir: string | undefined, deviceId: string): void {
  if (stateDir === undefined) return;
  const mine = accountant
    .budgets()
    .filter((b) => b.deviceId === deviceId)
    .map((b) => ({
      ...b,
      totalEpsilonUnits: b.totalEpsilonUnits.toString(),
      totalDeltaUnits: b.totalDeltaUnits.toString(),
      spentEpsilonUnits: b.spentEpsilonUnits.toString(),
      spentDeltaUnits: b.spentDeltaUnits.toString(),
    }));
  const file = accountFile(stateDir, deviceId);
  writeFileSync(`${file}.tmp`, JSON.stringify(mine));
  renameSync(`${file}.tmp`, file);
}

let trainer: Trainer | undefined;

/** Stops the training thread (agent shutdown). */
export async function closeFlTrainer(): Promise<void> {
  const t = trainer;
  trainer = undefined;
  await t?.destroy();
}

/**
 * Trains the round's global model on the partition this device holds (its data stays here), in
 * a tfjs-wasm worker thread, and returns the compressed update: top-k, 8-bit quantised.
 */
async function runTraining(
  lease: Lease,
  cache: ArtifactCache,
  handles: ArtifactHandle[],
  signal: AbortSignal,
  deviceId: string,
  stateDir?: string,
): Promise<unknown[]> {
  if (lease.items.length !== 1) {
    throw new DpnError(DEVICE_TASK_INVALID, "A training lease carries exactly one item.", {
      hint: "This is a node bug; the lease is dropped and will expire.",
    });
  }
  const item = parseItem(TrainingItem, lease.items[0], "training item");
  if (!(EXAMPLE_DATASETS as readonly string[]).includes(item.dataset)) {
    throw new DpnError(DEVICE_TASK_INVALID, `This agent does not hold data set ${item.dataset}.`, {
      hint: "The node should lease training only to devices that registered the partition.",
    });
  }
  // Released (privatized) features arrive as an artifact; otherwise the partition held here.
  const released = lease.artifacts.featureSet;
  let data: Dataset;
  if (released !== undefined) {
    const file = await cache.acquire(released);
    handles.push(file);
    const set = parseItem(
      FeatureSetOutput,
      JSON.parse(await readFile(file.path, "utf8")) as unknown,
      "released feature set",
    );
    data = decodeFeatureSet(set);
  } else {
    data = await examplePartition(item.dataset, item.partition);
  }
  const spec = parseModelSpec(item.model);
  const weightBytes = Buffer.from(item.weights, "base64");
  const copy = new Uint8Array(weightBytes.length);
  copy.set(weightBytes);
  trainer ??= createTrainerPool({ threads: 1 });
  const result = await trainer.train(
    {
      spec,
      config: parseTrainConfig(item.train),
      weights: new Float32Array(copy.buffer),
      data,
      seed: item.seed,
    },
    signal,
  );
  // Local DP: clip and add Gaussian noise here, on the device, charged to its own budget
  // (DP_BUDGET_EXCEEDED, and nothing released, when it would be exceeded).
  let update = result.update;
  if (item.privacy !== undefined) {
    loadAccount(stateDir, deviceId);
    update = privatizeUpdate(result.update, item.privacy, {
      accountant,
      deviceId,
      datasetId: item.dataset,
      // Fresh randomness: noise derived from the job's seed could be subtracted by the node.
      rng: seededRng(randomBytes(32).toString("hex")),
    }).update;
    saveAccount(stateDir, deviceId);
  }
  const encoded = encodeUpdate(
    update,
    item.topK >= 1 ? { kind: "quantize8" } : { kind: "topk+quantize8", fraction: item.topK },
  );
  return [
    checkOutput(FlOutput, {
      update: Buffer.from(encoded.bytes).toString("base64"),
      samples: result.samples,
      meanLoss: result.meanLoss,
      bytesBefore: encoded.bytesBefore,
      bytesAfter: encoded.bytesAfter,
    }),
  ];
}

const FeaturesItem = z.strictObject({
  dataset: z.string(),
  partition: z.string(),
  featureEpsilon: z.number().positive(),
  labelEpsilon: z.optional(z.number().positive()),
});

/**
 * The light layer's part of training: clean the partition held here, extract its features and
 * release them under local DP (Laplace on clipped features, randomised response on labels),
 * charged to this device's own budget first; raw rows never leave.
 */
async function runFeatures(lease: Lease, deviceId: string, stateDir?: string): Promise<unknown[]> {
  const item = parseItem(FeaturesItem, lease.items[0], "feature task");
  if (!(EXAMPLE_DATASETS as readonly string[]).includes(item.dataset)) {
    throw new DpnError(DEVICE_TASK_INVALID, `This agent does not hold data set ${item.dataset}.`, {
      hint: "The node should lease feature tasks only to devices that registered the partition.",
    });
  }
  loadAccount(stateDir, deviceId);
  const release = extractPrivateFeatures(
    await examplePartition(item.dataset, item.partition),
    {
      featureEpsilon: item.featureEpsilon,
      ...(item.labelEpsilon === undefined ? {} : { labelEpsilon: item.labelEpsilon }),
    },
    {
      accountant,
      deviceId,
      datasetId: item.dataset,
      rng: seededRng(randomBytes(32).toString("hex")),
    },
  );
  saveAccount(stateDir, deviceId);
  return [
    checkOutput(FeatureSetOutput, { ...encodeFeatureSet(release.data), dropped: release.dropped }),
  ];
}

const AnalyticsItem = DataFragment.extend({ query: z.record(z.string(), z.unknown()) });

/**
 * Runs an analytics lease: the query over the one data fragment it names, in a locked-down
 * in-memory DuckDB (@dpn/analytics), in this process: DuckDB computes on its own native thread,
 * so the event loop stays free. The output is the canonical partial aggregate and its digest.
 */
async function runAnalytics(
  lease: Lease,
  cache: ArtifactCache,
  handles: ArtifactHandle[],
): Promise<unknown[]> {
  const sha = lease.artifacts.fragment;
  if (sha === undefined || lease.items.length !== 1) {
    throw new DpnError(
      DEVICE_TASK_INVALID,
      "An analytics lease needs one fragment artifact and one item.",
      {
        hint: "This is a node bug; the lease is dropped and will expire.",
      },
    );
  }
  const item = parseItem(AnalyticsItem, lease.items[0], "analytics item");
  if (item.sha256 !== sha) {
    throw new DpnError(
      DEVICE_TASK_INVALID,
      "The lease's item names another fragment than its artifact.",
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
  return [checkOutput(AnalyticsOutput, { partial, digest })];
}

/**
 * Runs every item of a lease in order on the worker pool (one thread at a time per lease, so
 * `slots` leases use at most `slots` cores) and returns the task result: one output per item,
 * in item order, and the wall time of the computation (artifact downloads excluded).
 * Rejects with an AbortError when `signal` aborts (lease expired, agent stopping).
 */
export async function runLease(
  lease: Lease,
  runner: LeaseRunner,
  signal: AbortSignal,
): Promise<TaskResult> {
  const handles: ArtifactHandle[] = [];
  try {
    if (
      lease.type === "sql-analytics" ||
      lease.type === "fl-train" ||
      lease.type === "fl-features"
    ) {
      const startMs = performance.now();
      const outputs =
        lease.type === "fl-train"
          ? await runTraining(
              lease,
              runner.cache,
              handles,
              signal,
              runner.deviceId ?? "self",
              runner.stateDir,
            )
          : lease.type === "fl-features"
            ? await runFeatures(lease, runner.deviceId ?? "self", runner.stateDir)
            : await runAnalytics(lease, runner.cache, handles);
      signal.throwIfAborted();
      return { taskId: lease.taskId, outputs, elapsedMs: performance.now() - startMs };
    }
    const tasks = await prepare(lease, runner.cache, handles);
    signal.throwIfAborted();
    const startMs = performance.now();
    const outputs: unknown[] = [];
    for (const task of tasks) {
      const { output } = await runner.pool.run(task, signal);
      outputs.push(checkOutput<unknown>(task.type === "hash" ? HashOutput : ProofOutput, output));
    }
    return { taskId: lease.taskId, outputs, elapsedMs: performance.now() - startMs };
  } finally {
    for (const handle of handles) handle.release();
  }
}
