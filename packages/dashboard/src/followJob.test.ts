import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DpnClient, isDpnError, type JobView } from "@dpn/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followJob } from "./followJob.ts";

/**
 * followJob against a real HTTP server on a loopback port that plays a node: each request to the
 * job's stream or view takes the next scripted answer, so a test sets what breaks and when.
 */
const JOB_ID = "job_00000000000000a1";
const view = (state: JobView["state"], itemsDone: number): JobView => ({
  jobId: JOB_ID,
  state,
  type: "hash",
  requester: `dpn_${"ab".repeat(20)}`,
  items: 2,
  itemsDone,
  cu: 0.5,
  quote: "0.1",
  budget: "1",
  spent: "0",
  cuPerDpn: 5,
  seed: "00",
  createdMs: 1,
  deadlineMs: 2,
  finishedMs: null,
  fragments: [],
});

type Answer = (response: ServerResponse) => void;
const stream =
  (...views: JobView[]): Answer =>
  (response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    for (const v of views) response.write(`event: job\ndata: ${JSON.stringify(v)}\n\n`);
    response.end();
  };
const json =
  (status: number, body: unknown): Answer =>
  (response) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
const refusal = (status: number, code: string) =>
  json(status, { code, message: `${code} here.`, details: {} });

let server: Server;
let client: DpnClient;
let script: Answer[] = [];
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? "");
    const next = script.shift() ?? refusal(500, "SCRIPT_EXHAUSTED");
    next(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = new DpnClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function follow(answers: Answer[], signal = new AbortController().signal) {
  script = answers;
  requests = [];
  const views: string[] = [];
  const errors: string[] = [];
  await followJob(client, JOB_ID, {
    signal,
    retryMs: 0,
    onView: (job) => views.push(`${job.state}:${job.itemsDone}`),
    onError: (error) => errors.push(isDpnError(error) ? error.code : error.message),
  });
  return { views, errors, requests };
}

describe("followJob", () => {
  it("subscribes again when the stream ends before the job, and stops at its final state", async () => {
    const run = await follow([stream(view("open", 0)), stream(view("open", 1), view("done", 2))]);
    expect(run.views).toEqual(["open:0", "open:1", "done:2"]);
    expect(run.errors).toEqual(["CLIENT_STREAM_ENDED"]);
    expect(run.requests).toEqual([`/v1/jobs/${JOB_ID}/events`, `/v1/jobs/${JOB_ID}/events`]);
  });

  it("reads the job with plain GETs while the node has no room for a stream", async () => {
    const run = await follow([
      refusal(503, "NODE_OVERLOADED"),
      json(200, view("open", 1)),
      refusal(503, "NODE_OVERLOADED"),
      json(200, view("done", 2)),
    ]);
    expect(run.views).toEqual(["open:1", "done:2"]);
    expect(run.errors).toEqual([]);
    expect(run.requests).toEqual([
      `/v1/jobs/${JOB_ID}/events`,
      `/v1/jobs/${JOB_ID}`,
      `/v1/jobs/${JOB_ID}/events`,
      `/v1/jobs/${JOB_ID}`,
    ]);
  });

  it("stops at a refusal that retrying cannot cure, and reports it", async () => {
    const run = await follow([refusal(404, "JOB_NOT_FOUND"), stream(view("done", 2))]);
    expect(run.views).toEqual([]);
    expect(run.errors).toEqual(["JOB_NOT_FOUND"]);
    expect(run.requests).toHaveLength(1);
  });

  it("stops quietly when the signal aborts", async () => {
    const controller = new AbortController();
    controller.abort();
    const run = await follow([stream(view("open", 0))], controller.signal);
    expect(run.views).toEqual([]);
    expect(run.errors).toEqual([]);
  });
});
