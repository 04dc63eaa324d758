import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnError } from "@dpn/protocol";
import { ErrorResponse, newIdentity, readAuthorization } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusOf } from "../src/api/httpErrors.ts";
import { NODE_REGISTRY } from "../src/errors.ts";
import { type RunningNode, startNode } from "../src/server.ts";
import { testStore } from "./stores.ts";

/** The API answers each code with its registered status and links the code's docs. */
let node: RunningNode;

beforeAll(async () => {
  node = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-errors-")),
    logLevel: "silent",
  });
});

afterAll(async () => {
  await node.close();
});

async function refusal(path: string, init: RequestInit = {}) {
  const response = await fetch(`${node.url}${path}`, init);
  return { status: response.status, body: ErrorResponse.parse(await response.json()) };
}

describe("error answers", () => {
  it("answers each registered code with its status", () => {
    for (const entry of Object.values(NODE_REGISTRY)) {
      expect(statusOf(new DpnError(entry.code, "x")), entry.code).toBe(entry.status);
    }
    expect(statusOf(new Error("a bug"))).toBe(500);
  });

  it("links the code's docs in the body of a refusal", async () => {
    const reader = newIdentity();
    const unknownJob = await refusal("/v1/jobs/no-such-job", {
      headers: { authorization: readAuthorization(reader, "/v1/jobs/no-such-job", Date.now()) },
    });
    expect(unknownJob.status).toBe(404);
    expect(unknownJob.body).toMatchObject({
      code: "JOB_NOT_FOUND",
      docs: "docs/errors.md#job_not_found",
    });
    const unsigned = await refusal("/v1/jobs/no-such-job");
    expect(unsigned.status).toBe(401);
    expect(unsigned.body).toMatchObject({
      code: "READ_UNSIGNED",
      docs: "docs/errors.md#read_unsigned",
    });

    const badQuery = await refusal("/v1/market/quote?side=sideways&amount=1");
    expect(badQuery.status).toBe(400);
    expect(badQuery.body).toMatchObject({
      code: "MESSAGE_INVALID",
      docs: "docs/errors.md#message_invalid",
      details: { path: "side" },
    });

    const noRoute = await refusal("/v1/nothing-here");
    expect(noRoute.body).toMatchObject({
      code: "HTTP_NOT_FOUND",
      docs: "docs/errors.md#http_not_found",
    });

    const badJson = await refusal("/v1/jobs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toMatch(/^HTTP_FST_/);
    expect(badJson.body.docs).toBe("docs/errors.md#http_fastify");
  });
});
