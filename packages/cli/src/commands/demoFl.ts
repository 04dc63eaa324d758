import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { formatDpn } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { jobProgress } from "../progress.ts";
import { spawnWorker, stopProcesses } from "./workerProcess.ts";

/**
 * `dpn demo --fl`: federated learning end to end. A node on SQLite in a temp directory, four
 * device processes each holding one US region's flights (the rows never leave them), and a
 * requester paying for synchronous FedAvg rounds of a small MLP that predicts late departures.
 * Prints each round's validation accuracy, the bytes the compressed updates saved, what each
 * device earned, the ledger audit and the wall time.
 */
const REGIONS = [
  ["pacific", "9q8y"],
  ["south-atlantic", "dhwf"],
  ["middle-atlantic", "dr5r"],
  ["east-north-central", "dp3w"],
] as const;

export interface FlDemoOptions {
  readonly rounds: string;
  readonly json: boolean;
}

export async function runFlDemo(options: FlDemoOptions): Promise<void> {
  const started = performance.now();
  const rounds = Number(options.rounds);
  const dir = mkdtempSync(join(tmpdir(), "dpn-fl-demo-"));
  const say = (line: string): void => {
    if (!options.json) console.log(line);
  };
  const requester = newIdentity();
  const owner = newIdentity();
  let node: RunningNode | undefined;
  const children: ChildProcess[] = [];
  try {
    node = await startNode({
      dataDir: join(dir, "node"),
      logLevel: "warn",
      grants: { [requester.id]: "100" },
    });
    say(`node ${node.url} (data in a temp directory)`);
    for (const [i, [partition, geohash]] of REGIONS.entries()) {
      const keys = join(dir, `device-${i}.json`);
      const identity = newIdentity();
      writeKeyFile(keys, identity);
      children.push(
        spawnWorker({
          nodeUrl: node.url,
          keys,
          owner: owner.id,
          deviceClass: "server",
          geohash,
          cacheDir: join(dir, "cache"),
          extra: ["--fl-data", `flights-regions/v1:${partition}`],
          stdout: "ignore",
        }),
      );
      say(`device ${identity.id.slice(0, 14)}… holds the ${partition} flights`);
    }
    const client = new DpnClient({ url: node.url, identity: requester });
    const job = await client.submitJob({
      spec: {
        type: "fl-train",
        dataset: "flights-regions/v1",
        partitions: REGIONS.map(([p]) => p),
        model: { kind: "mlp", inputs: 17, hidden: [16], classes: 2 },
        train: { learningRate: 0.3, batchSize: 32, epochs: 1 },
        rounds,
        devicesPerRound: REGIONS.length,
        aggregation: "mean",
        topK: 0.25,
        samplesPerTask: 1_500,
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "fl-demo",
    });
    say(
      `\nrequester submitted ${rounds} FedAvg rounds × ${REGIONS.length} devices (quote ${job.quote} DPN)`,
    );
    const bar = options.json ? undefined : jobProgress("training tasks");
    const done = await client.waitForJob(job.jobId, (j) => bar?.update(j));
    bar?.stop();
    const { result } = (await client.jobResult(job.jobId)) as unknown as {
      result: { rounds: Array<{ round: number; accuracy: number | null; updates: number }> };
    };
    const bytes = (
      await node.store.db
        .selectFrom("tasks")
        .select("output_json")
        .where("job_id", "=", job.jobId)
        .execute()
    )
      .flatMap(
        (t) =>
          JSON.parse(t.output_json ?? "[]") as Array<{ bytesBefore: number; bytesAfter: number }>,
      )
      .reduce((s, o) => ({ before: s.before + o.bytesBefore, after: s.after + o.bytesAfter }), {
        before: 0,
        after: 0,
      });
    const audit = await node.ledger.verify();
    const summary = {
      state: done.state,
      rounds: result.rounds,
      updateBytes: bytes,
      spent: done.spent,
      ownerBalance: formatDpn(await node.ledger.balance(`owner:${owner.id}`).catch(() => 0n)),
      ledgerVerify: audit.ok ? "OK" : "FAILED",
      wallSeconds: (performance.now() - started) / 1000,
    };
    if (options.json) {
      console.log(JSON.stringify(summary, null, 2));
    } else {
      say("\nsummary");
      for (const r of result.rounds) {
        say(
          `  round ${r.round}: validation accuracy ${r.accuracy === null ? "—" : `${(r.accuracy * 100).toFixed(1)}%`}${r.round === 0 ? " (the initial model; chance is 50%)" : ` from ${r.updates} updates`}`,
        );
      }
      say(
        `  updates            ${bytes.before} bytes dense → ${bytes.after} sent (top-25% + 8-bit, ${(bytes.before / Math.max(1, bytes.after)).toFixed(1)}× smaller)`,
      );
      say(
        `  requester paid     ${done.spent} DPN; device owner earned ${summary.ownerBalance} DPN`,
      );
      say(`  ledger verify      ${summary.ledgerVerify}`);
      say(`  wall time          ${summary.wallSeconds.toFixed(1)} s`);
    }
    if (done.state !== "done" || !audit.ok) process.exitCode = 3;
  } finally {
    // Devices first, so none reports the node going away.
    await stopProcesses(children);
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
