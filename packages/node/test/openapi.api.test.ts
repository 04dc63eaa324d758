import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useZodSchemas } from "../src/api/zodSchemas.ts";
import { type RunningNode, startNode } from "../src/server.ts";
import { testStore } from "./stores.ts";

/**
 * The OpenAPI document is generated from the routes' own schemas: it must list exactly the routes
 * Fastify serves, give each its answers (and the error body), and be valid OpenAPI 3.1.
 */
let node: RunningNode;
let document: {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; in: string; name: string }> };
};

interface Operation {
  parameters: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  "x-dpn-signed-payload"?: { kind: string; schema: unknown };
  security?: Array<Record<string, string[]>>;
  "x-dpn-signed-read"?: string;
}

/** Every METHOD path Fastify serves, read back from its route tree (printRoutes). */
function servedRoutes(tree: string): Set<string> {
  const served = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^((?:│ {3}| {4})*)[├└]── (\S*) \(([^)]+)\)/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? "").length / 4;
    stack.length = depth;
    stack.push(match[2] ?? "");
    for (const method of (match[3] ?? "").split(", ")) {
      if (method !== "HEAD") served.add(`${method} ${stack.join("")}`);
    }
  }
  return served;
}

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "dpn-openapi-"));
  // No dashboard here: its static files are not API routes.
  node = await startNode({
    store: testStore(),
    dataDir,
    dashboardDir: dataDir,
    logLevel: "silent",
  });
  document = (await (await fetch(`${node.url}/openapi.json`)).json()) as typeof document;
});

afterAll(async () => {
  await node.close();
});

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
  });

  it("documents every route Fastify serves, and only those", () => {
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) {
        documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
      }
    }
    const served = servedRoutes(node.app.printRoutes({ commonPrefix: false }));
    expect(served.size).toBeGreaterThan(20);
    expect([...documented].sort()).toEqual([...served].sort());
    for (const route of documented) {
      const [method, url] = route.split(" ") as [string, string];
      expect(node.app.hasRoute({ method, url }), route).toBe(true);
    }
  });

  it("gives every operation its answer, the error body, and its path parameters", () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method} ${path}`;
        const ok = operation.responses["200"] ?? operation.responses["201"];
        expect(ok?.content, where).toBeDefined();
        for (const media of Object.values(ok?.content ?? {})) {
          expect(media.schema, where).toBeDefined();
        }
        for (const failure of ["4XX", "5XX"]) {
          const schema = operation.responses[failure]?.content?.["application/json"]?.schema as {
            required?: string[];
          };
          expect(schema?.required, where).toEqual(["code", "message", "details"]);
        }
        const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(
          operation.parameters.filter((p) => p.in === "path").map((p) => p.name),
          where,
        ).toEqual(names);
        if (method === "post" || method === "put") {
          expect(operation.requestBody, where).toBeDefined();
          expect(operation["x-dpn-signed-payload"]?.schema, where).toBeDefined();
        }
      }
    }
  });

  it("says where a signed read goes and which reads need one", () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.dpnReadHeader).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "authorization",
    });
    expect(schemes.dpnReadQuery).toMatchObject({ type: "apiKey", in: "query", name: "dpn-read" });
    const either = [{ dpnReadHeader: [] }, { dpnReadQuery: [] }];
    for (const path of [
      "/v1/jobs",
      "/v1/jobs/{id}",
      "/v1/jobs/{id}/result",
      "/v1/jobs/{id}/events",
    ]) {
      expect(document.paths[path]?.get?.security, path).toEqual(either);
      expect(document.paths[path]?.get?.["x-dpn-signed-read"], path).toBe("required");
    }
    // A published artifact needs no signature: the empty requirement says so.
    expect(document.paths["/v1/artifacts/{sha256}"]?.get?.security).toEqual([...either, {}]);
    for (const path of ["/v1/jobs/summary", "/v1/devices", "/v1/node"]) {
      expect(document.paths[path]?.get?.security, path).toBeUndefined();
    }
  });

  it("describes query parameters from their schemas", () => {
    const quote = document.paths["/v1/market/quote"]?.get;
    expect(quote?.parameters.map((p) => [p.name, p.in])).toEqual([
      ["side", "query"],
      ["amount", "query"],
    ]);
  });
});

describe("response checking", () => {
  async function appAnswering(validateResponses: boolean, answer: unknown) {
    const app = Fastify({ logger: false });
    useZodSchemas(app, validateResponses);
    app.get(
      "/thing",
      { schema: { response: { 200: z.strictObject({ n: z.number() }) } } },
      async () => answer,
    );
    await app.ready();
    return app;
  }

  it("is on for every node the suites start", () => {
    // startNode checks answers by default under NODE_ENV=test (vitest's), so every suite that
    // touches a route also checks its answer against the published schema.
    expect(process.env.NODE_ENV).toBe("test");
  });

  it("refuses an answer that drifted from its schema with a coded 500", async () => {
    const app = await appAnswering(true, { n: 1, extra: true });
    const response = await app.inject({ method: "GET", url: "/thing" });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ code: "NODE_RESPONSE_INVALID" });
    await app.close();
  });

  it("sends the handler's JSON unchanged, checked or not", async () => {
    for (const validate of [true, false]) {
      const app = await appAnswering(validate, { n: 1 });
      const response = await app.inject({ method: "GET", url: "/thing" });
      expect(response.body).toBe('{"n":1}');
      await app.close();
    }
    const unchecked = await appAnswering(false, { n: 1, extra: true });
    expect((await unchecked.inject({ method: "GET", url: "/thing" })).body).toBe(
      '{"n":1,"extra":true}',
    );
    await unchecked.close();
  });
});
