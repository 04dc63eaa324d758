import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { exampleInputs, expectedPublicSignals, poseidonChain } from "@dpn/circuits";
import { type RunningNode, startNode } from "@dpn/node";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { type Benchmark, type BenchRow, median } from "./harness.ts";
import type { AloneResult } from "./proveAlone.ts";

/**
 * Does proving scale across devices, and what does the bank cost per proof? The example circuit
 * (poseidonChain, 3,840 constraints) proved by snarkjs alone on one core, then through the full
 * bank (SDK job → node → `dpn worker` device processes with 1 slot, each pinned to one core with
 * taskset → proofs verified by the node → settled) on 1 and on 2 devices.
 *
 * Workload shape: a job has ⌈log2 N⌉ fragments for N eligible devices, which is 1 for N = 2, so a
 * single job never runs on two devices at once here. The P proofs are therefore submitted as
 * P/2 jobs of 2 proofs each (the same jobs on 1 and on 2 devices).
 */
const BIN = fileURLToPath(new URL("../packages/cli/src/bin.ts", import.meta.url));
const ALONE = fileURLToPath(new URL("./proveAlone.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const HAS_TASKSET = spawnSync("which", ["taskset"]).status === 0;

/** `node --import tsx file args…`, pinned to `core` when taskset exists. */
function pinnedNode(core: number, file: string, args: readonly string[]): [string, string[]] {
  const command = [process.execPath, "--import", TSX, file, ...args];
  return HAS_TASKSET
    ? ["taskset", ["-c", String(core), ...command]]
    : [command[0] as string, command.slice(1)];
}

async function alone(proofs: number, seed: string): Promise<AloneResult> {
  const [command, args] = pinnedNode(0, ALONE, [String(proofs), seed]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`proveAlone exited with ${code}`);
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as AloneResult;
}

interface Device {
  readonly core: number;
  readonly process: ChildProcess;
  readonly registered: Promise<void>;
  /** task id → device-reported elapsed ms (the whole fragment: witness + proof per item). */
  readonly finished: Map<string, number>;
}

function spawnDevice(url: string, dir: string, core: number): Device {
  const keys = join(dir, `device-${core}.json`);
  writeKeyFile(keys, newIdentity());
  const [command, args] = pinnedNode(core, BIN, [
    "worker",
    "--node",
    url,
    "--keys",
    keys,
    "--owner",
    newIdentity().id,
    "--class",
    "server",
    "--geohash",
    "u33d",
    "--slots",
    "1",
    "--cache-dir",
    join(dir, `cache-${core}`),
    "--log-level",
    "silent",
    "--events",
  ]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  const finished = new Map<string, number>();
  const registered = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`device on core ${core} exited (${code})`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      let event: { type?: string; result?: { taskId: string; elapsedMs: number } };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return;
      }
      if (event.type === "registered") resolve();
      if (event.type === "task-finished" && event.result !== undefined)
        finished.set(event.result.taskId, event.result.elapsedMs);
    });
  });
  registered.catch(() => {});
  return { core, process: child, registered, finished };
}

async function stopDevice(device: Device): Promise<void> {
  const child = device.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

interface BankRun {
  readonly seconds: number;
  readonly proofs: number;
  /** Σ device-reported proving ms, per device. */
  readonly provingMsByDevice: number[];
  readonly tasksByDevice: number[];
}

async function waitDone(node: RunningNode, jobIds: readonly string[]): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const states = (await Promise.all(jobIds.map((id) => node.bank.jobView(id)))).map(
      (v) => v.state,
    );
    if (states.every((s) => s !== "open" && s !== "funding")) {
      if (states.some((s) => s !== "done")) throw new Error(`a job ended ${states.join(",")}`);
      return;
    }
    if (Date.now() > deadline) throw new Error("jobs did not finish in 10 minutes");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `jobs` jobs of `proofsPerJob` proofs through a fresh node with `devices` pinned devices. */
async function throughBank(
  devices: number,
  jobs: number,
  proofsPerJob: number,
  seed: string,
): Promise<BankRun> {
  const dir = mkdtempSync(join(tmpdir(), "dpn-bench-prove-"));
  const requester = newIdentity();
  let node: RunningNode | undefined;
  const fleet: Device[] = [];
  try {
    node = await startNode({
      dataDir: join(dir, "node"),
      logLevel: "silent",
      grants: { [requester.id]: "1000" },
    });
    for (let core = 0; core < devices; core++) fleet.push(spawnDevice(node.url, dir, core));
    await Promise.all(fleet.map((d) => d.registered));
    const client = new DpnClient({ url: node.url, identity: requester });
    const artifacts = {
      wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
      zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
      verificationKey: await client.uploadArtifact(
        readFileSync(poseidonChain.artifacts.verificationKey),
      ),
    };
    let ref = 0;
    const spec = async (count: number, at: string) => {
      const items = exampleInputs(`${seed}/${at}`, count);
      return {
        type: "zk-groth16" as const,
        artifacts,
        constraints: poseidonChain.constraints,
        publicInputs: ["h0"],
        items: items.map((item) => ({ h0: item.h0, x: [...item.x] })),
        expectedPublicSignals: await Promise.all(items.map((item) => expectedPublicSignals(item))),
      };
    };
    const submit = async (s: Awaited<ReturnType<typeof spec>>): Promise<string> =>
      (
        await client.submitJob({
          spec: s,
          budget: "50",
          deadlineMs: Date.now() + 600_000,
          clientRef: `prove-${ref++}`,
        })
      ).jobId;
    // Warm-up, not measured: every device downloads the artifacts and proves once.
    for (let attempt = 0; attempt < 16 && fleet.some((d) => d.finished.size === 0); attempt++) {
      await waitDone(node, [await submit(await spec(1, `warm${attempt}`))]);
    }
    for (const d of fleet) d.finished.clear();
    const specs = await Promise.all(
      Array.from({ length: jobs }, (_, i) => spec(proofsPerJob, `job${i}`)),
    );
    const t0 = performance.now();
    const ids: string[] = [];
    for (const s of specs) ids.push(await submit(s));
    await waitDone(node, ids);
    const seconds = (performance.now() - t0) / 1000;
    const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    return {
      seconds,
      proofs: jobs * proofsPerJob,
      provingMsByDevice: fleet.map((d) => sum(d.finished)),
      tasksByDevice: fleet.map((d) => d.finished.size),
    };
  } finally {
    await Promise.all(fleet.map(stopDevice));
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Benchmark = async ({ quick }) => {
  const repeats = quick ? 1 : 3;
  const proofs = quick ? 4 : 16;
  const perJob = 2;
  const rows: BenchRow[] = [];
  const notes: string[] = [];

  const aloneRuns: AloneResult[] = [];
  for (let run = 0; run < repeats; run++) aloneRuns.push(await alone(quick ? 2 : 8, `alone${run}`));
  const proveMs = median(aloneRuns.map((r) => median(r.proveMs)));
  const verifyMs = median(aloneRuns.map((r) => median(r.verifyMs)));
  const aloneRate = 1000 / proveMs;
  rows.push({
    setup: "snarkjs alone, 1 core (taskset -c 0, single-threaded curve)",
    shape: `${quick ? 2 : 8} proofs, plain loop`,
    "proofs/s": Number(aloneRate.toFixed(3)),
    "s per proof": Number((proveMs / 1000).toFixed(3)),
    "device-reported s per proof": Number((proveMs / 1000).toFixed(3)),
    scaling: "",
    "node overhead %": "",
    "tasks per device": "",
    runs: repeats,
  });

  const shapes: Array<{ devices: number; jobs: number; perJob: number }> = [
    { devices: 1, jobs: proofs / perJob, perJob },
    { devices: 2, jobs: proofs / perJob, perJob },
  ];
  let oneDeviceRate = Number.NaN;
  let oneDeviceOverhead = Number.NaN;
  for (const shape of shapes) {
    const runs: BankRun[] = [];
    for (let run = 0; run < repeats; run++)
      runs.push(await throughBank(shape.devices, shape.jobs, shape.perJob, `bank${run}`));
    const rate = median(runs.map((r) => r.proofs / r.seconds));
    // Overhead: wall time not covered by the busiest device's own proving, per proof, as a
    // share of the device-reported proving time per proof.
    const overhead = median(
      runs.map((r) => {
        const critical = Math.max(...r.provingMsByDevice);
        const provingPerProof = r.provingMsByDevice.reduce((a, b) => a + b, 0) / r.proofs;
        return (r.seconds * 1000 - critical) / r.proofs / provingPerProof;
      }),
    );
    if (shape.devices === 1) {
      oneDeviceRate = rate;
      oneDeviceOverhead = overhead;
    }
    rows.push({
      setup: `full bank, ${shape.devices} device${shape.devices > 1 ? "s" : ""} (slots 1, ${HAS_TASKSET ? `taskset -c ${shape.devices > 1 ? "0 / 1" : "0"}` : "unpinned"})`,
      shape: `${shape.jobs} job${shape.jobs > 1 ? "s" : ""} × ${shape.perJob} proofs`,
      "proofs/s": Number(rate.toFixed(3)),
      "s per proof": Number((1 / rate).toFixed(3)),
      "device-reported s per proof": Number(
        (
          median(runs.map((r) => r.provingMsByDevice.reduce((a, b) => a + b, 0) / r.proofs)) / 1000
        ).toFixed(3),
      ),
      scaling:
        shape.devices === 1
          ? Number((rate / aloneRate).toFixed(3))
          : Number((rate / (shape.devices * oneDeviceRate)).toFixed(3)),
      "node overhead %": Number((overhead * 100).toFixed(1)),
      "tasks per device": runs
        .map((r) => r.tasksByDevice.join("/"))
        .slice(0, 3)
        .join(", "),
      runs: repeats,
    });
  }

  notes.push(
    "scaling: for 1 device, its rate / snarkjs alone on one core; for 2 devices, scaling efficiency = (2-device rate) / (2 × 1-device rate).",
    "node overhead % = (end-to-end wall time − proving time reported by the busiest device's task-finished events) / proofs, as a share of device-reported proving time per proof. End to end = first job POSTed → last job marked done (quote, holds, assignment, artifact already cached, lease, proof transfer, verification, settlement); for 2 devices it also counts an idle device when the seeded random assignment gives the two devices unequal numbers of jobs (tasks per device, one entry per run).",
    `Goal: node overhead < 2% of proving time: 1 device reached ${(oneDeviceOverhead * 100).toFixed(1)}%.`,
    `Goal: verification < 5% of proving time: groth16.verify on the single-threaded curve takes ${verifyMs.toFixed(1)} ms per proof vs ${proveMs.toFixed(0)} ms per fullProve (${((verifyMs / proveMs) * 100).toFixed(1)}%), timed in the pinned snarkjs process on the proofs it produced (the node's verifyProcess.ts makes the same call).`,
    "Workload shape: ⌈log2 2⌉ = 1 fragment per job on 2 devices, so the P proofs go as P/2 jobs of 2 proofs; a single job of P proofs on 2 devices would stay on one device (efficiency 0.5 by construction).",
    "device-reported s per proof: Σ task-finished elapsedMs / proofs (witness + proof in the device's worker thread); compare with snarkjs alone to see contention for the 2 cores.",
    HAS_TASKSET
      ? "Caveat: 2 cores. Devices are pinned (taskset) but the node (HTTP, signatures, its verifier child process running groth16.verify) is not: with 2 devices it competes with both of them for the 2 cores, with 1 device it has core 1 to itself."
      : "Caveat: taskset is not available, nothing is pinned.",
  );
  return {
    name: "prove",
    question: "Does proving scale across devices, and what does the bank cost per proof?",
    rows,
    notes,
  };
};

export default bench;
