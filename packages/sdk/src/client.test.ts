import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DpnError, isDpnError } from "@dpn/protocol";
import { newIdentity, readTokenText } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DpnClient } from "./client.ts";
import { CLIENT_RESPONSE_INVALID, CLIENT_UNREACHABLE } from "./http.ts";
import { CLIENT_STREAM_ENDED } from "./jobEvents.ts";

/**
 * How the client reads answers, against a real HTTP server on a loopback port that answers what
 * each test sets: a body that matches the route's schema is returned typed, anything else is a
 * coded error naming the route. (test/node.e2e.test.ts checks the same methods against a node.)
 */
type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let url = "";
let handler: Handler = (_request, response) => response.end();
const seen: string[] = [];

function answer(status: number, body: unknown, type = "application/json"): Handler {
  return (_request, response) => {
    response.writeHead(status, { "content-type": type });
    response.end(typeof body === "string" ? body : JSON.stringify(body));
  };
}

const job = {
  jobId: "job_00000000000000a1",
  state: "open",
  type: "hash",
  requester: `dpn_${"ab".repeat(20)}`,
  items: 2,
  itemsDone: 0,
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
};

async function rejection(promise: Promise<unknown>): Promise<DpnError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DpnError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("DpnClient reading answers", () => {
  it("returns an answer that matches the route's schema", async () => {
    handler = answer(200, job);
    const client = new DpnClient({ url: `${url}/` });
    expect(await client.job(job.jobId)).toEqual(job);
    expect(seen.at(-1)).toBe(`GET /v1/jobs/${job.jobId}`);
  });

  it("signs each private read for its own path when it has an identity, and only then", async () => {
    const identity = newIdentity();
    const authorizations: Array<string | undefined> = [];
    handler = (request, response) => {
      authorizations.push(request.headers.authorization);
      answer(200, job)(request, response);
    };
    const signed = new DpnClient({ url, identity, now: () => 1_700_000_000_000 });
    await signed.job(job.jobId);
    await new DpnClient({ url }).job(job.jobId);
    const [header, none] = authorizations;
    expect(none).toBeUndefined();
    expect(header).toMatch(/^DPN [A-Za-z0-9_-]+$/);
    const token = JSON.parse(readTokenText((header as string).slice(4)) as string) as {
      envelope: { kind: string; from: string; payload: string; issuedAtMs: number };
    };
    expect(token.envelope).toMatchObject({
      kind: "read",
      from: identity.id,
      issuedAtMs: 1_700_000_000_000,
    });
    expect(JSON.parse(token.envelope.payload)).toEqual({
      method: "GET",
      path: `/v1/jobs/${job.jobId}`,
    });
    // A link cannot carry a header: its token rides in the query, signed for the bare path.
    const link = new URL(signed.jobResultUrl(job.jobId));
    expect(link.pathname).toBe(`/v1/jobs/${job.jobId}/result`);
    expect(link.searchParams.get("dpn-read")).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(new DpnClient({ url }).jobResultUrl(job.jobId)).toBe(
      `${url}/v1/jobs/${job.jobId}/result`,
    );
  });

  it("refuses an answer that does not match, naming the route and the field", async () => {
    handler = answer(200, { ...job, itemsDone: "0" });
    const error = await rejection(new DpnClient({ url }).job(job.jobId));
    expect(error.code).toBe(CLIENT_RESPONSE_INVALID);
    expect(error.shortMessage).toContain(`GET /v1/jobs/${job.jobId}`);
    expect(error.shortMessage).toContain("at itemsDone");
    expect(error.details).toMatchObject({ method: "GET", path: `/v1/jobs/${job.jobId}` });

    // A field the schema does not know is a mismatch too: the schemas are exact.
    handler = answer(200, { devices: [], extra: 1 });
    expect((await rejection(new DpnClient({ url }).devices())).code).toBe(CLIENT_RESPONSE_INVALID);
  });

  it("refuses a 2xx answer that is not JSON", async () => {
    handler = answer(200, "<html>a proxy page</html>", "text/html");
    const error = await rejection(new DpnClient({ url }).node());
    expect(error.code).toBe(CLIENT_RESPONSE_INVALID);
    expect(error.shortMessage).toBe("GET /v1/node answered 200 with a body that is not JSON.");
  });

  it("turns the node's refusal into a DpnError with its code, hint, status and docs", async () => {
    handler = answer(404, {
      code: "JOB_NOT_FOUND",
      message: "No job job_x.",
      hint: "Check the id.",
      docs: "docs/errors.md#job_not_found",
      details: { jobId: "job_x" },
    });
    const error = await rejection(new DpnClient({ url }).job("job_x"));
    expect(error.code).toBe("JOB_NOT_FOUND");
    expect(error.shortMessage).toBe("No job job_x.");
    expect(error.hint).toBe("Check the id.");
    expect(error.details).toEqual({
      status: 404,
      jobId: "job_x",
      docs: "docs/errors.md#job_not_found",
    });
  });

  it("names the status when a refusal carries no DPN code", async () => {
    handler = answer(502, "Bad Gateway", "text/plain");
    const error = await rejection(new DpnClient({ url }).pool());
    expect(error.code).toBe("HTTP_502");
    expect(error.details).toMatchObject({ status: 502, path: "/v1/market/pool" });
  });

  it("encodes path segments and query parameters", async () => {
    handler = answer(200, { entries: [], nextCursor: null });
    await new DpnClient({ url }).history("dpn_a/b", { cursor: "7 8", limit: 5 });
    expect(seen.at(-1)).toBe("GET /v1/accounts/dpn_a%2Fb/history?limit=5&cursor=7+8");
  });

  it("reports an unreachable node with CLIENT_UNREACHABLE", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(new DpnClient({ url: `http://127.0.0.1:${port}` }).node());
    expect(error.code).toBe(CLIENT_UNREACHABLE);
  });

  it("rejects with the signal's reason when aborted, not with a coded error", async () => {
    let arrived: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    handler = () => arrived(); // never answers
    const controller = new AbortController();
    const pending = new DpnClient({ url }).devices({ signal: controller.signal });
    await waiting;
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(isDpnError(error)).toBe(false);
    expect((error as Error).name).toBe("AbortError");
  });

  it("refuses to sign without an identity", async () => {
    const error = await rejection(new DpnClient({ url }).cancelJob(job.jobId));
    expect(error.code).toBe("CLIENT_NO_IDENTITY");
  });
});

describe("DpnClient.jobEvents", () => {
  const stream =
    (...views: unknown[]): Handler =>
    (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(": keep-alive\n\n");
      for (const view of views) response.write(`event: job\ndata: ${JSON.stringify(view)}\n\n`);
      response.end();
    };

  it("yields each view and ends after the one with a final state", async () => {
    handler = stream(job, { ...job, itemsDone: 1 }, { ...job, itemsDone: 2, state: "done" });
    const views = [];
    for await (const view of new DpnClient({ url }).jobEvents(job.jobId)) views.push(view);
    expect(views.map((v) => `${v.state}:${v.itemsDone}`)).toEqual(["open:0", "open:1", "done:2"]);
    expect(seen.at(-1)).toBe(`GET /v1/jobs/${job.jobId}/events`);
  });

  it("throws CLIENT_STREAM_ENDED when the stream ends before the job does", async () => {
    handler = stream(job);
    const views: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const view of new DpnClient({ url }).jobEvents(job.jobId)) views.push(view);
      })(),
    );
    expect(views).toHaveLength(1);
    expect(error.code).toBe(CLIENT_STREAM_ENDED);
  });

  it("refuses an event that does not match the job schema", async () => {
    handler = stream({ ...job, state: "sleeping" });
    const events = new DpnClient({ url }).jobEvents(job.jobId);
    const error = await rejection(events.next());
    expect(error.code).toBe(CLIENT_RESPONSE_INVALID);
    expect(error.shortMessage).toContain("at state");
  });

  it("throws the node's refusal sent before the stream", async () => {
    handler = answer(404, { code: "JOB_NOT_FOUND", message: "No job.", details: {} });
    const error = await rejection(new DpnClient({ url }).jobEvents("job_x").next());
    expect(error.code).toBe("JOB_NOT_FOUND");
  });
});
