import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { DpnClient } from "@dpn/sdk";
import type { Identity, JobSubmit } from "@dpn/wire";
import { readKeyFile } from "@dpn/wire/node";

/**
 * The requester side of bench/dispatch.ts, in its own process so its signing does not run on the
 * node's core. Jobs are signed by the SDK (DpnClient.signed: Ed25519 + ML-DSA-44 envelope) and
 * POSTed to /v1/jobs exactly as DpnClient.submitJob does, but over node:http so that each request
 * can leave from its own loopback address (127.0.0.2, 127.0.0.3, …): the node rate-limits per
 * client IP (1,200 requests/min), and many requesters on a network come from many addresses.
 *
 * Two load shapes: closed loop (keep `outstanding` jobs submitted and not yet done; the parent
 * reports the done count) for peak throughput, and open loop (`ratePerSec` submissions per
 * second, whatever the node does) for latency at a fixed offered load.
 */
export type RequesterCommand =
  | {
      readonly cmd: "run";
      readonly url: string;
      readonly keyFiles: string[];
      readonly addresses: number;
      readonly itemsPerJob: number;
      readonly durationMs: number;
      readonly outstanding?: number;
      readonly ratePerSec?: number;
      readonly tag: string;
    }
  | { readonly cmd: "done"; readonly count: number };

export interface SubmittedJob {
  readonly jobId: string;
  /** Date.now() just before the request left (comparable with the node's finished_ms). */
  readonly submittedAtMs: number;
  readonly ackMs: number;
}

export interface RequesterReport {
  readonly jobs: SubmittedJob[];
  readonly errors: Record<string, number>;
}

function post(
  url: URL,
  agent: Agent,
  body: string,
): Promise<{ status: number; json: { jobId?: string; code?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/v1/jobs",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
                jobId?: string;
                code?: string;
              },
            });
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export async function runRequester(
  command: Extract<RequesterCommand, { cmd: "run" }>,
  doneCount: () => number,
): Promise<RequesterReport> {
  const url = new URL(command.url);
  const clients = command.keyFiles.map(
    (path) => new DpnClient({ url: command.url, identity: readKeyFile(path) as Identity }),
  );
  const agents = Array.from(
    { length: command.addresses },
    (_, i) => new Agent({ keepAlive: true, localAddress: `127.0.0.${2 + i}` } as never),
  );
  const jobs: SubmittedJob[] = [];
  const errors: Record<string, number> = {};
  let n = 0;
  let inFlight = 0;
  const submitOne = async (): Promise<void> => {
    const i = n++;
    const client = clients[i % clients.length] as DpnClient;
    const submit: JobSubmit = {
      spec: {
        type: "hash",
        items: Array.from({ length: command.itemsPerJob }, () => ({
          seed: randomBytes(32).toString("hex"),
          iterations: 1,
        })),
      },
      budget: "1",
      deadlineMs: Date.now() + 600_000,
      clientRef: `${command.tag}-${i}`,
    };
    const body = JSON.stringify(client.signed("job.submit", submit));
    inFlight += 1;
    const submittedAtMs = Date.now();
    const t = performance.now();
    try {
      const { status, json } = await post(url, agents[i % agents.length] as Agent, body);
      if (status === 201 && json.jobId !== undefined)
        jobs.push({ jobId: json.jobId, submittedAtMs, ackMs: performance.now() - t });
      else errors[json.code ?? `HTTP_${status}`] = (errors[json.code ?? `HTTP_${status}`] ?? 0) + 1;
    } catch (error) {
      errors[String(error)] = (errors[String(error)] ?? 0) + 1;
    } finally {
      inFlight -= 1;
    }
  };
  const start = performance.now();
  const deadline = start + command.durationMs;
  const pending = new Set<Promise<void>>();
  const launch = (): void => {
    const p = submitOne();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  while (performance.now() < deadline) {
    if (command.ratePerSec !== undefined) {
      // Open loop: the i-th submission is due at start + i / rate.
      const due = start + (n * 1000) / command.ratePerSec;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (performance.now() < deadline) launch();
    } else {
      const limit = command.outstanding ?? 64;
      // Closed loop: submitted-but-not-done jobs (counting requests still in flight) ≤ limit.
      if (jobs.length + inFlight - doneCount() < limit && inFlight < 16) launch();
      else await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  await Promise.all(pending);
  for (const agent of agents) agent.destroy();
  return { jobs, errors };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let done = 0;
  process.on("message", (message: RequesterCommand) => {
    if (message.cmd === "done") {
      done = message.count;
      return;
    }
    runRequester(message, () => done).then(
      (report) => process.send?.(report),
      (error: unknown) => process.send?.({ jobs: [], errors: { [String(error)]: 1 } }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
