import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity, READ_QUERY_PARAM, signRead } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningNode, startNode } from "../src/server.ts";
import { testStore } from "./stores.ts";

/** Job event streams are bounded: beyond the limit the node refuses with a coded 503. */
const requester = newIdentity();
const LIMIT = 2;
let node: RunningNode;
let jobId: string;

beforeAll(async () => {
  node = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-events-")),
    logLevel: "silent",
    grants: { [requester.id]: "10" },
    maxEventStreams: LIMIT,
  });
  const client = new DpnClient({ url: node.url, identity: requester });
  // No device is connected, so the job stays open and its streams stay open.
  const job = await client.submitJob({
    spec: { type: "hash", items: [{ seed: "07".padStart(64, "0"), iterations: 10 }] },
    budget: "1",
    deadlineMs: Date.now() + 600_000,
    clientRef: "events",
  });
  jobId = job.jobId;
});

afterAll(async () => {
  await node.close();
});

/** A stream signed as EventSource in a browser must: the read token in the query. */
function openStream(id = jobId): { response: Promise<Response>; abort: AbortController } {
  const abort = new AbortController();
  const path = `/v1/jobs/${id}/events`;
  const url = `${node.url}${path}?${READ_QUERY_PARAM}=${signRead(requester, path, Date.now())}`;
  return { response: fetch(url, { signal: abort.signal }), abort };
}

describe("job event streams", () => {
  it("refuses a stream beyond MAX_EVENT_STREAMS with NODE_OVERLOADED, and admits one again when a stream closes", async () => {
    // An unknown job is a JSON 404 and takes no place.
    const unknown = await openStream("no-such-job").response;
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe("JOB_NOT_FOUND");

    const streams = [openStream(), openStream()];
    for (const stream of streams) {
      const response = await stream.response;
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/event-stream");
    }

    const refused = await openStream().response;
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as { code: string; hint?: string; details: unknown };
    expect(body.code).toBe("NODE_OVERLOADED");
    expect(body.hint).toContain("GET /v1/jobs/{id}");
    expect(body.details).toEqual({ maxEventStreams: LIMIT });

    // Refused before the capacity check: a stranger learns neither the job nor the node's load.
    const unsigned = await fetch(`${node.url}/v1/jobs/${jobId}/events`);
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { code: string }).code).toBe("READ_UNSIGNED");

    streams[0]?.abort.abort();
    // The node learns of the close asynchronously: ask until a new stream is admitted.
    const again = await vi.waitFor(
      async () => {
        const stream = openStream();
        const response = await stream.response;
        if (response.status !== 200) throw new Error(`still refused (${response.status})`);
        return stream;
      },
      { timeout: 10_000, interval: 50 },
    );
    again.abort.abort();
    streams[1]?.abort.abort();
  });
});
