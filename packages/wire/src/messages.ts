import { DEVICE_CLASSES, DpnError } from "@dpn/protocol";
import { z } from "zod";

/**
 * The messages of DPN (docs/protocol.md §Messages): the body of every signed envelope, for the
 * device channel (WebSocket) and the HTTP API. One zod schema per message; the node validates
 * every body with these schemas and the OpenAPI document is generated from them.
 */

// ---- shared pieces -------------------------------------------------------------------------

/** Bounds of one message: items per job, leases per frame, bytes per item. */
export const MAX_JOB_ITEMS = 10_000;
export const MAX_LEASES_PER_FRAME = 1_000;
export const MAX_RESULTS_PER_FRAME = 1_000;
export const MAX_ITEM_JSON_BYTES = 64 * 1024;

export const Sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "a SHA-256 digest: 64 lower-case hex digits");
export const AccountId = z
  .string()
  .regex(/^dpn_[0-9a-f]{40}$/, "a DPN id: dpn_ followed by 40 hex digits");
/** A DPN amount as a decimal string ("12.5"), parsed exactly by parseDpn. */
export const DpnAmount = z.string().regex(/^\d{1,59}(\.\d{1,18})?$/, 'a DPN amount such as "12.5"');
export const Geohash4 = z
  .string()
  .regex(
    /^[0123456789bcdefghjkmnpqrstuvwxyz]{4}$/,
    "a precision-4 geohash (4 characters of 0-9, b-z without a, i, l, o)",
  );
export const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64");
const Decimal = z.string().regex(/^\d{1,78}$/, "a decimal field element");

export const TaskTypeName = z.enum([
  "zk-groth16",
  "hash",
  "sql-analytics",
  "fl-train",
  "fl-features",
]);
export type TaskTypeName = z.infer<typeof TaskTypeName>;

/** Inputs of one `hash` item: SHA-256 iterated `iterations` times from `seed`. */
export const HashItem = z.strictObject({
  seed: Sha256Hex,
  iterations: z.number().int().min(1).max(100_000_000),
});
export type HashItem = z.infer<typeof HashItem>;
export const HashOutput = z.strictObject({ digest: Sha256Hex });
export type HashOutput = z.infer<typeof HashOutput>;

/** Inputs of one Groth16 proof: circuit signal name → decimal value or array of them. */
export const CircuitInput = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
  z.union([Decimal, z.array(Decimal).max(4096)]),
);
export type CircuitInput = z.infer<typeof CircuitInput>;

export const Groth16Proof = z.strictObject({
  pi_a: z.array(Decimal).length(3),
  pi_b: z.array(z.array(Decimal).length(2)).length(3),
  pi_c: z.array(Decimal).length(3),
  protocol: z.literal("groth16"),
  curve: z.literal("bn128"),
});
export const ProofOutput = z.strictObject({
  proof: Groth16Proof,
  publicSignals: z.array(Decimal).max(256),
});
export type ProofOutput = z.infer<typeof ProofOutput>;

// ---- HTTP: jobs ----------------------------------------------------------------------------

export const ZkJobSpec = z.strictObject({
  type: z.literal("zk-groth16"),
  /** Content hashes of the uploaded circuit artifacts. */
  artifacts: z.strictObject({ wasm: Sha256Hex, zkey: Sha256Hex, verificationKey: Sha256Hex }),
  /** R1CS constraint count, for the cost model (checked against the verification key's size). */
  constraints: z
    .number()
    .int()
    .min(1)
    .max(1 << 28),
  /**
   * Names of the circuit's public inputs, in order. The node checks that each proof's public
   * signals end with exactly these inputs' values, so a device cannot prove another statement.
   */
  publicInputs: z.array(z.string().min(1).max(64)).max(64),
  items: z.array(CircuitInput).min(1).max(MAX_JOB_ITEMS),
  /**
   * Optional: the full public signals each proof must carry (outputs, then public inputs), when
   * the requester knows them (a rollup knows the state root it expects). Without them a valid
   * proof of other private inputs under the same public inputs would be accepted.
   */
  expectedPublicSignals: z.optional(z.array(z.array(Decimal).max(256)).max(MAX_JOB_ITEMS)),
});

export const HashJobSpec = z.strictObject({
  type: z.literal("hash"),
  items: z.array(HashItem).min(1).max(MAX_JOB_ITEMS),
});

/** One data fragment of an analytics job: an uploaded Parquet or CSV file. */
export const DataFragment = z.strictObject({
  sha256: Sha256Hex,
  format: z.enum(["parquet", "csv"]),
  /** Rows in the fragment, for the cost model (the requester declares; replicas check nothing). */
  rows: z.number().int().min(1).max(1_000_000_000),
});
export type DataFragment = z.infer<typeof DataFragment>;

/**
 * An aggregate query over data fragments (docs/protocol.md §Analytics jobs): the query is the
 * analytics package's QuerySpec or SQL text, validated by the node against its whitelist; each
 * fragment runs on light devices under a reputation-adaptive replication quorum.
 */
export const AnalyticsJobSpec = z.strictObject({
  type: z.literal("sql-analytics"),
  query: z.union([z.string().min(1).max(4_096), z.record(z.string(), z.unknown())]),
  items: z.array(DataFragment).min(1).max(1_000),
  /** Release the merged result with Laplace noise at this ε (needs clamp bounds for sums). */
  epsilon: z.optional(z.number().positive().max(100)),
});

/** What a device returns for one analytics fragment: the canonical partial aggregate. */
export const AnalyticsOutput = z.strictObject({
  partial: z.record(z.string(), z.unknown()),
  digest: Sha256Hex,
});
export type AnalyticsOutput = z.infer<typeof AnalyticsOutput>;

/**
 * Federated training (docs/protocol.md §Federated learning jobs): synchronous FedAvg rounds over
 * data partitions that stay on the devices holding them. Each round samples `devicesPerRound`
 * partitions; each sampled partition trains the global model locally and returns a compressed
 * update; the node bounds each update's norm, aggregates (mean, or a robust rule), evaluates the
 * new global model on the requester's validation set and opens the next round.
 */
export const FlJobSpec = z.strictObject({
  type: z.literal("fl-train"),
  dataset: z.enum(["flights-regions/v1", "penguins-islands/v1"]),
  partitions: z
    .array(z.string().regex(/^[a-z0-9._-]{1,64}$/))
    .min(1)
    .max(64),
  /** The fl package's ModelSpec ({ kind: "logistic" | "mlp", … }). */
  model: z.record(z.string(), z.unknown()),
  /** The fl package's TrainConfig ({ learningRate, batchSize, epochs, optimizer? }). */
  train: z.record(z.string(), z.unknown()),
  rounds: z.number().int().min(1).max(100),
  devicesPerRound: z.number().int().min(1).max(64),
  /**
   * sync (default): FedAvg rounds. async: FedAsync — every task starts from the newest global
   * model and its result is mixed in as it arrives with weight α·(τ+1)^−½ for staleness τ
   * (versions since it started); rounds × devicesPerRound updates in all.
   */
  mode: z.optional(z.enum(["sync", "async"])),
  /**
   * Train on the released feature sets of a finished fl-features job instead of raw partitions:
   * every partition of that job becomes a training partition any heavy device may take.
   */
  features: z.optional(z.string().min(1).max(64)),
  /**
   * Share of synchronous updates re-executed by another holder of the same partition with the
   * same base model and seed before they are paid (default 0.1; 0 turns it off).
   */
  spotCheck: z.optional(z.number().min(0).max(1)),
  alpha: z.optional(z.number().positive().max(1)),
  aggregation: z.optional(z.enum(["mean", "median", "trimmed-mean"])),
  /** Updates with a larger L2 norm are refused (FL_UPDATE_NORM_EXCEEDED). Default 10. */
  maxUpdateNorm: z.optional(z.number().positive().max(1e6)),
  /** Top-k fraction of the update to send, 8-bit quantised (default 1: dense, 8-bit). */
  topK: z.optional(z.number().positive().max(1)),
  /** A round closes this long after it opens, with the updates that arrived (FedAvg deadline). */
  roundDeadlineMs: z.optional(z.number().int().min(1_000).max(86_400_000)),
  /** Examples each partition holds, roughly: for the price (CU = FLOPs of training them). */
  samplesPerTask: z.number().int().min(1).max(1_000_000),
  /**
   * Local differential privacy on every update (Gaussian mechanism after clipping to clipNorm):
   * each task spends ε, δ of the holding device's lifetime budget on the data set.
   */
  privacy: z.optional(
    z.strictObject({
      epsilon: z.number().positive().lt(1),
      delta: z.number().positive().max(1e-3),
      clipNorm: z.number().positive().max(1e6),
    }),
  ),
});

/**
 * Light-layer preparation for training (docs/protocol.md §Federated learning jobs): each device
 * holding a partition cleans it, extracts its features, and releases them only under local
 * differential privacy (Laplace on clipped features, randomised response on labels), charged to
 * its privacy budget on the data set. The released sets become the training data of an fl-train
 * job (`features`), which then may run on any heavy device: the raw rows never left their holders.
 */
export const FlFeaturesJobSpec = z.strictObject({
  type: z.literal("fl-features"),
  dataset: z.enum(["flights-regions/v1", "penguins-islands/v1"]),
  partitions: z
    .array(z.string().regex(/^[a-z0-9._-]{1,64}$/))
    .min(1)
    .max(64),
  /** ε of the Laplace mechanism on the features (sensitivity Σ(hi − lo) of the clip bounds). */
  featureEpsilon: z.number().positive().max(100),
  /** ε of randomised response on the labels; absent: labels are released as they are. */
  labelEpsilon: z.optional(z.number().positive().max(100)),
  /** Rows each partition holds, roughly: for the price. */
  samplesPerTask: z.number().int().min(1).max(1_000_000),
});

/** A released (privatized) data set: features float32 and labels int32, little-endian, base64. */
export const FeatureSetOutput = z.strictObject({
  rows: z.number().int().min(1).max(1_000_000),
  features: z.number().int().min(1).max(4096),
  classes: z.number().int().min(2).max(1000),
  x: Base64,
  y: Base64,
  /** Rows dropped by cleaning (non-finite values). */
  dropped: z.number().int().min(0),
});
export type FeatureSetOutput = z.infer<typeof FeatureSetOutput>;

/** One device's training result: the compressed update, base64, and what it trained on. */
export const FlOutput = z.strictObject({
  update: Base64,
  samples: z.number().int().min(1),
  meanLoss: z.number(),
  bytesBefore: z.number().int().min(0),
  bytesAfter: z.number().int().min(0),
});
export type FlOutput = z.infer<typeof FlOutput>;

export const JobSubmit = z.strictObject({
  spec: z.discriminatedUnion("type", [
    ZkJobSpec,
    HashJobSpec,
    AnalyticsJobSpec,
    FlJobSpec,
    FlFeaturesJobSpec,
  ]),
  /** The most the requester will pay; the node holds it and releases what is not spent. */
  budget: DpnAmount,
  /** When the job must be done (ms since epoch); unfinished work is then cancelled. */
  deadlineMs: z.number().int().positive(),
  /** Makes a retried submission return the first job instead of creating a second one. */
  clientRef: z.string().min(1).max(128),
});
export type JobSubmit = z.infer<typeof JobSubmit>;

/** What the node answers about a job (GET /v1/jobs/{id}); amounts are decimal DPN strings. */
export interface JobView {
  readonly jobId: string;
  readonly state: string;
  readonly type: string;
  readonly requester: string;
  readonly items: number;
  readonly itemsDone: number;
  readonly cu: number;
  readonly quote: string;
  readonly budget: string;
  readonly spent: string;
  readonly cuPerDpn: number;
  /** The assignment seed: with the recorded candidates, anyone can re-run the assignment. */
  readonly seed: string;
  readonly createdMs: number;
  readonly deadlineMs: number;
  readonly finishedMs: number | null;
  readonly fragments: ReadonlyArray<{
    readonly taskId: string;
    readonly index: number;
    readonly items: number;
    readonly state: string;
    readonly deviceId: string | null;
    readonly attempts: number;
    readonly price: string | null;
    readonly reward: string | null;
  }>;
}

/**
 * One epoch of the exchange rate as the node reports it (GET /v1/economics/rate and /rates):
 * the prices and measured inputs, the rate (docs/protocol.md §Exchange rate) and the burning
 * controller's decision. Amounts in base units and basis points are decimal strings.
 */
export interface RateEpochView {
  readonly atMs: number;
  readonly prices: {
    readonly dpnPriceUsd: number;
    readonly computePriceUsdPerCu: number;
    readonly source: string;
  };
  readonly inputs: {
    readonly circulation: string;
    readonly demandCu: number;
    readonly rigShare: number;
    readonly longTailShare: number;
    readonly supplyCu: number;
    readonly queuedCu: number;
  };
  readonly rate: {
    readonly anchorCuPerDpn: number;
    readonly supplyDemandImbalance: number;
    readonly supplyDemandFactor: number;
    readonly discountIndex: number;
    readonly msf: number;
    readonly ehf: number;
    readonly cuPerDpn: number;
  };
  readonly burning: {
    readonly level: string;
    readonly utilisation: number;
    readonly burnBps: string;
    readonly coldStorageCu: number;
    readonly releaseCu: number;
    readonly buyback: string;
  };
  /** Cumulative minted and burned DPN and the reserve's DPN at the epoch, base units. */
  readonly ledger?: { readonly minted: string; readonly burned: string; readonly reserve: string };
}

export const JobCancel = z.strictObject({ jobId: z.string().min(1).max(64) });
export const Transfer = z.strictObject({
  to: AccountId,
  amount: DpnAmount,
  clientRef: z.string().min(1).max(128),
});

// ---- market (§4.5) ------------------------------------------------------------------------

export const SwapSideName = z.enum(["sell-dpn", "buy-dpn"]);

/** A swap through the AMM pool; amountIn is DPN for sell-dpn, stable units for buy-dpn. */
export const MarketSwap = z.strictObject({
  side: SwapSideName,
  amountIn: DpnAmount,
  /** Price-impact guard; default the pool's 70 bps (§4.5's 0.7%). */
  maxSlippageBps: z.optional(z.number().int().min(0).max(9_000)),
  minAmountOut: z.optional(DpnAmount),
  clientRef: z.string().min(1).max(128),
});

/** Adds both tokens to the pool, or burns shares for them. */
export const MarketLiquidity = z.discriminatedUnion("action", [
  z.strictObject({
    action: z.literal("add"),
    dpnAmount: DpnAmount,
    stableAmount: DpnAmount,
    clientRef: z.string().min(1).max(128),
  }),
  z.strictObject({
    action: z.literal("remove"),
    shares: z.string().regex(/^\d{1,78}$/, "a whole number of share base units"),
    clientRef: z.string().min(1).max(128),
  }),
]);

export type MarketSwapBody = z.infer<typeof MarketSwap>;
export type MarketLiquidityBody = z.infer<typeof MarketLiquidity>;

/** GET /v1/market/pool. Prices are stable units (USD) per DPN as decimal strings. */
export interface PoolView {
  readonly reserveDpn: string;
  readonly reserveStable: string;
  readonly totalShares: string;
  readonly spotPrice: string | null;
  /** Time-weighted mean price over the last `twapWindowMs` (null until a window exists). */
  readonly twapPrice: string | null;
  readonly twapWindowMs: number;
  readonly feeBps: number;
  readonly slippageBps: number;
  readonly maxSlippageBps: number;
  readonly anchorPriceUsd: number;
}

/** One decision of the reserve's anti-decoupling desk (§4.3), traded or not. */
export interface ReserveOperationView {
  readonly atMs: number;
  readonly marketPrice: number | null;
  readonly anchorPrice: number;
  readonly deviation: number | null;
  readonly action: "none" | "sell-dpn" | "buy-dpn";
  /** What §4.3's formula asked for, in DPN. */
  readonly formulaDpn: string;
  readonly amountIn: string;
  readonly amountOut: string;
  readonly priceBefore: string | null;
  readonly priceAfter: string | null;
  /** Why no trade, or why the trade was smaller than the formula. */
  readonly note: string;
}

// ---- WebSocket: device channel ---------------------------------------------------------------

export const DeviceRegister = z.strictObject({
  ed25519PublicKey: Base64,
  mldsa44PublicKey: Base64,
  /** The account paid for this device's work. */
  owner: AccountId,
  deviceClass: z.enum(DEVICE_CLASSES),
  /** SHA-256 of the device's hardware description (CPU model, cores, memory, platform). */
  fingerprint: Sha256Hex,
  geohash: Geohash4,
  cores: z.number().int().min(1).max(1024),
  memoryMiB: z
    .number()
    .int()
    .min(16)
    .max(16 * 1024 * 1024),
  agentVersion: z.string().min(1).max(32),
  /** Task types this agent can run. */
  taskTypes: z.array(TaskTypeName).min(1),
  /**
   * Data this device holds for fl-train jobs, as "dataset:partition" (e.g.
   * "flights-regions/v1:pacific"). The data never leaves the device; training tasks on a
   * partition go only to devices that hold it.
   */
  datasets: z.optional(z.array(z.string().regex(/^[a-z0-9/._-]{1,64}:[a-z0-9._-]{1,64}$/)).max(64)),
  /** Reserved for zero-knowledge location proofs (a later issue). */
  locationProof: z.optional(z.unknown()),
});
export type DeviceRegister = z.infer<typeof DeviceRegister>;

export const NodeChallenge = z.strictObject({
  challengeId: z.string().min(1).max(64),
  seed: Sha256Hex,
  iterations: z.number().int().positive().max(100_000_000),
});
export const DeviceChallengeAnswer = z.strictObject({
  challengeId: z.string().min(1).max(64),
  digest: Sha256Hex,
  elapsedMs: z.number().nonnegative().max(600_000),
});
export const NodeRegistered = z.strictObject({
  deviceId: AccountId,
  deviceClass: z.enum(DEVICE_CLASSES),
  layer: z.enum(["light", "heavy"]),
  longTail: z.boolean(),
  benchmarkCuPerSec: z.number(),
  reason: z.string(),
});

export const DeviceReady = z.strictObject({
  slots: z.number().int().min(0).max(MAX_LEASES_PER_FRAME),
});

export const Lease = z.strictObject({
  taskId: z.string().min(1).max(64),
  jobId: z.string().min(1).max(64),
  type: TaskTypeName,
  leaseExpiresAtMs: z.number(),
  /** For zk-groth16: wasm, zkey, verificationKey content hashes, fetched from /v1/artifacts. */
  artifacts: z.record(z.string(), Sha256Hex),
  items: z.array(z.unknown()).min(1),
});
export type Lease = z.infer<typeof Lease>;
export const NodeLeases = z.strictObject({ leases: z.array(Lease).max(MAX_LEASES_PER_FRAME) });

export const TaskResult = z.strictObject({
  taskId: z.string().min(1).max(64),
  /** One output per item, in item order: HashOutput or ProofOutput. */
  outputs: z.array(z.unknown()).min(1).max(MAX_JOB_ITEMS),
  elapsedMs: z.number().nonnegative(),
});
export type TaskResult = z.infer<typeof TaskResult>;
export const DeviceResults = z.strictObject({
  results: z.array(TaskResult).min(1).max(MAX_RESULTS_PER_FRAME),
});

export const Verdict = z.strictObject({
  taskId: z.string(),
  accepted: z.boolean(),
  code: z.optional(z.string()),
  reason: z.optional(z.string()),
  /** DPN minted to the device's owner for this task. */
  reward: DpnAmount,
});
export type Verdict = z.infer<typeof Verdict>;
export const NodeVerdicts = z.strictObject({ verdicts: z.array(Verdict) });

export const DeviceHeartbeat = z.strictObject({
  activeTaskIds: z.array(z.string()).max(MAX_LEASES_PER_FRAME),
});
export const NodeError = z.strictObject({ code: z.string(), message: z.string() });

/** Envelope kind → body schema, for both directions of the device channel. */
export const DEVICE_MESSAGES = {
  "device.register": DeviceRegister,
  "device.challenge-answer": DeviceChallengeAnswer,
  "device.ready": DeviceReady,
  "device.results": DeviceResults,
  "device.heartbeat": DeviceHeartbeat,
} as const;
export const NODE_MESSAGES = {
  "node.challenge": NodeChallenge,
  "node.registered": NodeRegistered,
  "node.leases": NodeLeases,
  "node.verdicts": NodeVerdicts,
  "node.error": NodeError,
} as const;

export const MESSAGE_INVALID = "MESSAGE_INVALID";

/** Validates a body against its schema; the error names the first offending field. */
export function parseMessage<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  throw new DpnError(
    MESSAGE_INVALID,
    `Invalid ${what}: ${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid"}.`,
    {
      hint: "Check the request against the API schema at /openapi.json.",
      details: {
        path,
        issues: result.error.issues
          .slice(0, 5)
          .map((i) => ({ path: i.path.join("."), message: i.message })),
      },
    },
  );
}
