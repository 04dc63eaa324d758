import { writeFileSync } from "node:fs";
import { dpnFromNumber, formatDpn, parseDpn } from "@dpn/protocol";
import type { JobView } from "@dpn/sdk";
import type { Command } from "commander";
import { type CommonOptions, client, print } from "../context.ts";
import { auditJob, renderAudit } from "../jobAudit.ts";
import {
  buildSpec,
  JOB_SPECS,
  type JobSpecOptions,
  precheckSpec,
  writeResultFiles,
} from "../jobSpec/index.ts";
import { jobProgress } from "../progress.ts";

function renderJob(job: JobView): string {
  const lines = [
    `${job.jobId}  ${job.type}  ${job.state}`,
    `  items ${job.itemsDone}/${job.items}, ${job.cu.toFixed(3)} CU, quote ${job.quote} DPN, budget ${job.budget} DPN, spent ${job.spent} DPN`,
    `  rate ${job.cuPerDpn.toFixed(2)} CU/DPN, assignment seed ${job.seed.slice(0, 16)}…`,
  ];
  for (const f of job.fragments) {
    lines.push(
      `  fragment ${f.index}: ${f.items} item(s) ${f.state}${f.deviceId === null ? "" : ` on ${f.deviceId}`}${f.reward === null ? "" : `, device paid ${f.reward} DPN`}`,
    );
  }
  return lines.join("\n");
}

function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) throw new Error(`${text} is not a duration (use 30s, 10m, 2h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

export function jobCommand(program: Command): void {
  const job = program.command("job").description("submit and follow jobs");
  job
    .command("submit")
    .description(
      "submit a job: Groth16 proofs (the example circuit or yours), hash work, analytics, federated training or rendering",
    )
    .option("--node <url>", "bank node URL (default $DPN_NODE or http://127.0.0.1:7070)")
    .option("--keys <path>", "your key file")
    .option("--type <type>", Object.keys(JOB_SPECS).join(", "), "zk-groth16")
    .option("--circuit <name>", "example: the bundled Poseidon-chain circuit")
    .option("--proofs <n>", "proofs to generate with the example circuit", "16")
    .option("--seed <seed>", "seed for the example circuit's inputs")
    .option("--wasm <path>", "your circuit's witness generator")
    .option("--zkey <path>", "your circuit's proving key")
    .option("--vkey <path>", "your circuit's verification key")
    .option("--inputs <path>", "JSON array of circuit inputs, one per proof")
    .option(
      "--constraints <n>",
      "your circuit's constraint count, checked against the zkey's (which prices the job)",
    )
    .option("--public-inputs <names>", "comma-separated names of your circuit's public inputs")
    .option(
      "--allow-unbound-items",
      "zk-groth16: accept items with the same statement (one proof would satisfy each)",
    )
    .option("--items <n>", "hash: number of items", "64")
    .option("--iterations <n>", "hash: SHA-256 iterations per item", "100000")
    .option("--query <sql>", "sql-analytics: an aggregate query over the table `fragment`")
    .option("--data <files>", "sql-analytics: comma-separated .parquet or .csv fragments")
    .option("--example-data <n>", "sql-analytics: split the bundled flights into n fragments")
    .option(
      "--epsilon <ε>",
      "sql-analytics: Laplace noise on the released result; fl-train: local DP per update (ε < 1)",
    )
    .option("--partitions <names>", "fl-train: flights-regions/v1 partitions (US regions)")
    .option("--model <name>", "fl-train: logistic or mlp", "logistic")
    .option("--rounds <n>", "fl-train: FedAvg rounds (async: rounds × per-round updates)", "5")
    .option("--per-round <n>", "fl-train: devices per round")
    .option("--mode <mode>", "fl-train: sync (FedAvg) or async (FedAsync)", "sync")
    .option("--aggregation <rule>", "fl-train: mean, median or trimmed-mean", "mean")
    .option("--features <jobId>", "fl-train: train on the sets a finished fl-features job released")
    .option("--label-epsilon <ε>", "fl-features: randomised response on the labels at this ε")
    .option("--scene <file>", "render: the .blend scene (uploaded as an artifact)")
    .option("--frames <range>", "render: frames to render, e.g. 1-8 or 5")
    .option("--tiles <cxr>", "render: tiles per frame, columns x rows, e.g. 2x2", "1x1")
    .option("--size <wxh>", "render: output size in pixels (overrides the scene's)", "320x240")
    .option("--samples <n>", "render: Cycles samples per pixel (overrides the scene's)", "16")
    .option("--budget <dpn>", "the most you will pay (default: twice the current quote)")
    .option("--deadline <duration>", "time allowed, e.g. 10m", "30m")
    .option("--wait", "follow the job until it ends, with a progress bar", false)
    .option("--json", "print the result as JSON", false)
    .action(
      async (
        options: JobSpecOptions &
          CommonOptions & { budget?: string; deadline: string; wait: boolean },
      ) => {
        precheckSpec(options);
        const dpn = client(options, true);
        const { spec, cu } = await buildSpec(dpn, options);
        let budget = options.budget;
        if (budget === undefined) {
          const { rate } = await dpn.economics();
          budget = formatDpn(dpnFromNumber((2 * cu) / rate.cuPerDpn) + 1n);
        }
        parseDpn(budget);
        const submitted = await dpn.submitJob({
          spec,
          budget,
          deadlineMs: Date.now() + parseDuration(options.deadline),
          clientRef: `cli-${Date.now()}-${Math.random().toString(16).slice(2)}`,
        });
        if (!options.wait) {
          print(options, submitted, () => renderJob(submitted));
          return;
        }
        const bar = jobProgress("job");
        const final = await dpn.waitForJob(submitted.jobId, (j) => bar.update(j));
        bar.stop();
        print(options, final, () => renderJob(final));
        if (spec.type === "fl-train" && !options.json) {
          // Progress per round: the validation accuracy of each global model version.
          const { result } = (await dpn.jobResult(final.jobId)) as unknown as {
            result?: { rounds: Array<{ round: number; accuracy: number | null; updates: number }> };
          };
          for (const r of result?.rounds ?? []) {
            console.log(
              `  round ${r.round}: validation accuracy ${r.accuracy === null ? "—" : `${(r.accuracy * 100).toFixed(1)}%`} (${r.updates} update(s))`,
            );
          }
        }
        if (final.state !== "done") process.exitCode = 3;
      },
    );
  job
    .command("status <jobId>")
    .description("a job's state, fragments, devices and spend (yours: the read is signed)")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file (the job's requester)")
    .option("--json", "print the result as JSON", false)
    .action(async (jobId: string, options: CommonOptions) => {
      const view = await client(options, true).job(jobId);
      print(options, view, () => renderJob(view));
    });
  job
    .command("result <jobId>")
    .description(
      "the outputs of a job (proofs with public signals, digests, rendered frames); yours: the read is signed",
    )
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file (the job's requester)")
    .option(
      "--out <path>",
      "write the outputs to a file instead of printing them; for a render job, a directory that gets frame-0001.png, …",
    )
    .option("--json", "print the result as JSON", true)
    .action(async (jobId: string, options: CommonOptions & { out?: string }) => {
      const dpn = client(options, true);
      const result = await dpn.jobResult(jobId);
      if (options.out !== undefined) {
        const { type } = await dpn.job(jobId);
        const wrote = writeResultFiles(dpn, type, result, options.out);
        if (wrote !== undefined) {
          console.error(await wrote);
          return;
        }
        writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
        console.error(`${result.outputs.length} outputs written to ${options.out}`);
      } else {
        console.log(JSON.stringify(result, null, 2));
      }
    });
  job
    .command("cancel <jobId>")
    .description("cancel a job; its unspent budget returns to you")
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file")
    .option("--json", "print the result as JSON", false)
    .action(async (jobId: string, options: CommonOptions) => {
      const view = await client(options, true).cancelJob(jobId);
      print(options, view, () => renderJob(view));
    });
  job
    .command("audit <jobId>")
    .description(
      "recompute the job's assignment seed from its signed submission and the ledger's sealed epoch, then re-run every recorded assignment with it (yours: the read is signed)",
    )
    .option("--node <url>", "bank node URL")
    .option("--keys <path>", "your key file (the job's requester)")
    .option("--json", "print the result as JSON", false)
    .action(async (jobId: string, options: CommonOptions) => {
      const audit = await auditJob(client(options, true), jobId);
      print(options, audit, () => renderAudit(audit));
      if (!audit.ok) process.exitCode = 1;
    });
}
