import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import {
  FLIGHTS_3M_PARQUET,
  mergePartials,
  parseSqlQuery,
  runFragmentQuery,
  splitDataset,
} from "@dpn/analytics";
import { exampleInputs, expectedPublicSignals, poseidonChain } from "@dpn/circuits";
import { costCu, DpnError } from "@dpn/protocol";
import type { DpnClient } from "@dpn/sdk";
import type { JobSubmit } from "@dpn/wire";

/**
 * Builds a job's spec from command-line options: the example circuit (uploaded on the fly), a
 * circuit of the user's (wasm, zkey, verification key, inputs file), or hash work.
 */
export interface JobSpecOptions {
  readonly type: string;
  readonly items?: string;
  readonly iterations?: string;
  readonly circuit?: string;
  readonly proofs?: string;
  readonly seed?: string;
  readonly wasm?: string;
  readonly zkey?: string;
  readonly vkey?: string;
  readonly inputs?: string;
  readonly constraints?: string;
  readonly publicInputs?: string;
  readonly query?: string;
  readonly data?: string;
  readonly exampleData?: string;
  readonly epsilon?: string;
  readonly partitions?: string;
  readonly model?: string;
  readonly rounds?: string;
  readonly perRound?: string;
  readonly mode?: string;
  readonly aggregation?: string;
  readonly features?: string;
  readonly labelEpsilon?: string;
}

function count(value: string | undefined, name: string, fallback: number, max: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new DpnError("CLI_INVALID_OPTION", `${name} must be a whole number from 1 to ${max}.`, {
      hint: `Pass ${name} <n>.`,
    });
  }
  return n;
}

export async function buildSpec(
  client: DpnClient,
  o: JobSpecOptions,
): Promise<{ spec: JobSubmit["spec"]; cu: number }> {
  if (o.type === "hash") {
    const items = count(o.items, "--items", 64, 10_000);
    const iterations = count(o.iterations, "--iterations", 100_000, 100_000_000);
    const spec: JobSubmit["spec"] = {
      type: "hash",
      items: Array.from({ length: items }, () => ({
        seed: randomBytes(32).toString("hex"),
        iterations,
      })),
    };
    return { spec, cu: items * costCu({ type: "hash", iterations }) };
  }
  if (o.type === "sql-analytics") return analyticsSpec(client, o);
  if (o.type === "fl-train") return flSpec(o);
  if (o.type === "fl-features") return featuresSpec(o);
  if (o.type !== "zk-groth16") {
    throw new DpnError("CLI_INVALID_OPTION", `Unknown job type ${o.type}.`, {
      hint: "Use --type zk-groth16, hash, sql-analytics, fl-train or fl-features.",
    });
  }
  if (o.circuit === "example" || (o.circuit === undefined && o.wasm === undefined)) {
    const proofs = count(o.proofs, "--proofs", 16, 10_000);
    const artifacts = {
      wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
      zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
      verificationKey: await client.uploadArtifact(
        readFileSync(poseidonChain.artifacts.verificationKey),
      ),
    };
    const items = exampleInputs(o.seed ?? randomBytes(8).toString("hex"), proofs);
    const expected = await Promise.all(items.map((item) => expectedPublicSignals(item)));
    const spec: JobSubmit["spec"] = {
      type: "zk-groth16",
      artifacts,
      constraints: poseidonChain.constraints,
      publicInputs: ["h0"],
      items: items.map((item) => ({ h0: item.h0, x: [...item.x] })),
      expectedPublicSignals: expected,
    };
    return {
      spec,
      cu: costCu({ type: "zk-groth16", constraints: poseidonChain.constraints, proofs }),
    };
  }
  if (
    o.wasm === undefined ||
    o.zkey === undefined ||
    o.vkey === undefined ||
    o.inputs === undefined ||
    o.constraints === undefined
  ) {
    throw new DpnError(
      "CLI_INVALID_OPTION",
      "A custom circuit needs --wasm, --zkey, --vkey, --inputs and --constraints.",
      {
        hint: "Or use --circuit example.",
      },
    );
  }
  type ZkSpec = Extract<JobSubmit["spec"], { type: "zk-groth16" }>;
  const inputs = JSON.parse(readFileSync(o.inputs, "utf8")) as ZkSpec["items"];
  const constraints = count(o.constraints, "--constraints", 1, 1 << 28);
  const spec: ZkSpec = {
    type: "zk-groth16",
    artifacts: {
      wasm: await client.uploadArtifact(readFileSync(o.wasm)),
      zkey: await client.uploadArtifact(readFileSync(o.zkey)),
      verificationKey: await client.uploadArtifact(readFileSync(o.vkey)),
    },
    constraints,
    publicInputs: (o.publicInputs ?? "").split(",").filter((s) => s !== ""),
    items: inputs,
  };
  return { spec, cu: costCu({ type: "zk-groth16", constraints, proofs: inputs.length }) };
}

/**
 * An analytics job: the query is checked here with the same whitelist the node uses (so a bad
 * query fails before anything is uploaded), each data file is uploaded as one fragment and its
 * rows counted for the price. `--example-data n` splits the first 100,000 flights of the bundled
 * vega-datasets file into n Parquet fragments.
 */
/** Checks what can be checked without a node or keys, so a bad job fails first and fast. */
export function precheckSpec(o: JobSpecOptions): void {
  if (o.type !== "sql-analytics") return;
  if (o.query === undefined) {
    throw new DpnError("CLI_INVALID_OPTION", "An analytics job needs --query.", {
      hint: 'For example --query "SELECT origin, count(*), avg(delay) FROM fragment GROUP BY origin".',
    });
  }
  parseSqlQuery(o.query); // throws ANALYTICS_QUERY_* with the reason
  if (o.data === undefined && o.exampleData === undefined) {
    throw new DpnError("CLI_INVALID_OPTION", "An analytics job needs --data or --example-data.", {
      hint: "Pass comma-separated .parquet or .csv files, or --example-data 4 for the bundled flights.",
    });
  }
}

async function analyticsSpec(
  client: DpnClient,
  o: JobSpecOptions,
): Promise<{ spec: JobSubmit["spec"]; cu: number }> {
  if (o.query === undefined) {
    throw new DpnError("CLI_INVALID_OPTION", "An analytics job needs --query.", {
      hint: 'For example --query "SELECT origin, count(*), avg(delay) FROM fragment GROUP BY origin".',
    });
  }
  parseSqlQuery(o.query); // throws ANALYTICS_QUERY_* before anything is uploaded
  let paths: readonly string[];
  if (o.exampleData !== undefined) {
    const fragments = count(o.exampleData, "--example-data", 4, 64);
    const split = await splitDataset({
      source: FLIGHTS_3M_PARQUET,
      outDir: mkdtempSync(join(tmpdir(), "dpn-flights-")),
      fragments,
      rows: 100_000,
    });
    paths = split.paths;
  } else if (o.data !== undefined) {
    paths = o.data
      .split(",")
      .filter((p) => p !== "")
      .map((p) => resolve(p));
  } else {
    throw new DpnError("CLI_INVALID_OPTION", "An analytics job needs --data or --example-data.", {
      hint: "Pass comma-separated .parquet or .csv files, or --example-data 4 for the bundled flights.",
    });
  }
  const rowCount = parseSqlQuery("SELECT count(*) FROM fragment");
  const items = [];
  let cu = 0;
  for (const path of paths) {
    const format = extname(path).toLowerCase() === ".csv" ? "csv" : "parquet";
    const counted = mergePartials(rowCount, [
      (await runFragmentQuery({ path, format }, rowCount)).partial,
    ]);
    const cell = counted.rows[0]?.[0];
    const rows = Number(cell !== null && typeof cell === "object" && "int" in cell ? cell.int : 0);
    if (rows < 1) {
      throw new DpnError("CLI_INVALID_OPTION", `${path} has no rows.`, {
        hint: "Give data files with at least one row.",
      });
    }
    items.push({ sha256: await client.uploadArtifact(readFileSync(path)), format, rows });
    cu += costCu({ type: "sql-analytics", rows, columns: 4 });
  }
  const epsilon = o.epsilon === undefined ? undefined : Number(o.epsilon);
  if (epsilon !== undefined && !(epsilon > 0 && epsilon <= 100)) {
    throw new DpnError("CLI_INVALID_OPTION", "--epsilon must be a number in (0, 100].", {
      hint: "Smaller ε adds more noise; 1 is a common choice.",
    });
  }
  const spec = {
    type: "sql-analytics",
    query: o.query,
    items,
    ...(epsilon === undefined ? {} : { epsilon }),
  } as JobSubmit["spec"];
  // Each fragment runs twice (the quorum): the default budget covers both.
  return { spec, cu: cu * 2 };
}

const FL_MODELS: Readonly<Record<string, Record<string, unknown>>> = {
  logistic: { kind: "logistic", inputs: 17, classes: 2 },
  mlp: { kind: "mlp", inputs: 17, hidden: [16], classes: 2 },
};

/**
 * A federated training job on the bundled flights-regions/v1 data (each device holds one US
 * region's flights; see `dpn worker --fl-data`). The node validates everything else; a bad
 * partition or model comes back with its FL_* code.
 */
function flSpec(o: JobSpecOptions): { spec: JobSubmit["spec"]; cu: number } {
  const model = FL_MODELS[o.model ?? "logistic"];
  if (model === undefined) {
    throw new DpnError("CLI_INVALID_OPTION", `Unknown model ${o.model}.`, {
      hint: `Use --model ${Object.keys(FL_MODELS).join(" or ")}.`,
    });
  }
  const mode = o.mode ?? "sync";
  if (mode !== "sync" && mode !== "async") {
    throw new DpnError("CLI_INVALID_OPTION", `--mode must be sync or async, not ${mode}.`, {
      hint: "sync: FedAvg rounds; async: FedAsync, updates mixed in as they arrive.",
    });
  }
  const aggregation = o.aggregation ?? "mean";
  if (!["mean", "median", "trimmed-mean"].includes(aggregation)) {
    throw new DpnError("CLI_INVALID_OPTION", `Unknown aggregation ${aggregation}.`, {
      hint: "Use mean, median or trimmed-mean (the last two resist poisoned updates).",
    });
  }
  const partitions = (o.partitions ?? "pacific,south-atlantic,middle-atlantic,east-north-central")
    .split(",")
    .filter((p) => p !== "");
  const rounds = count(o.rounds, "--rounds", 5, 100);
  const perRound = count(o.perRound, "--per-round", Math.min(4, partitions.length), 64);
  const epsilon = o.epsilon === undefined ? undefined : Number(o.epsilon);
  if (epsilon !== undefined && !(epsilon > 0 && epsilon < 1)) {
    throw new DpnError("CLI_INVALID_OPTION", "--epsilon for training must be in (0, 1).", {
      hint: "Local DP on updates uses the Gaussian mechanism, which needs ε < 1 per update.",
    });
  }
  const samplesPerTask = 1_500;
  const spec: JobSubmit["spec"] = {
    type: "fl-train",
    dataset: "flights-regions/v1",
    partitions,
    model,
    train: { learningRate: 0.3, batchSize: 32, epochs: 1 },
    rounds,
    devicesPerRound: perRound,
    mode,
    aggregation: aggregation as "mean" | "median" | "trimmed-mean",
    topK: 0.25,
    samplesPerTask,
    ...(o.features === undefined ? {} : { features: o.features }),
    ...(epsilon === undefined
      ? {}
      : { privacy: { epsilon, delta: 1e-8, clipNorm: 1 }, maxUpdateNorm: 1_000 }),
  };
  const parameters = model.kind === "mlp" ? 17 * 16 + 16 + 16 + 1 : 18;
  const cu =
    costCu({ type: "fl-train", parameters, samples: samplesPerTask, epochs: 1 }) *
    rounds *
    perRound;
  return { spec, cu };
}

/** Light-layer feature release under local DP (the input of `fl-train --features <job>`). */
function featuresSpec(o: JobSpecOptions): { spec: JobSubmit["spec"]; cu: number } {
  const featureEpsilon = Number(o.epsilon ?? "2.5");
  const labelEpsilon = o.labelEpsilon === undefined ? undefined : Number(o.labelEpsilon);
  for (const [name, value] of [
    ["--epsilon", featureEpsilon],
    ["--label-epsilon", labelEpsilon],
  ] as const) {
    if (value !== undefined && !(value > 0 && value <= 4)) {
      throw new DpnError("CLI_INVALID_OPTION", `${name} must be in (0, 4].`, {
        hint: "One release may spend at most ε = 4 (features and labels together).",
      });
    }
  }
  const partitions = (o.partitions ?? "pacific,south-atlantic,middle-atlantic,east-north-central")
    .split(",")
    .filter((p) => p !== "");
  const spec: JobSubmit["spec"] = {
    type: "fl-features",
    dataset: "flights-regions/v1",
    partitions,
    featureEpsilon,
    ...(labelEpsilon === undefined ? {} : { labelEpsilon }),
    samplesPerTask: 1_500,
  };
  return {
    spec,
    cu: partitions.length * costCu({ type: "sql-analytics", rows: 1_500, columns: 17 }),
  };
}
