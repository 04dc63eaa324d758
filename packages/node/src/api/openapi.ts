import { ErrorResponse, READ_AUTH_SCHEME, READ_KIND, READ_QUERY_PARAM } from "@dpn/wire";
import type { FastifySchema, RouteOptions } from "fastify";
import { z } from "zod";

/**
 * The OpenAPI 3.1 document, generated from the route schemas themselves: the API scope hands
 * every route to `add` as Fastify registers it (routes/index.ts), so a route cannot exist
 * undocumented and the document cannot describe a route that does not exist.
 */
export interface DocumentedRoute {
  readonly method: string;
  /** Fastify's path (`/v1/jobs/:id`). */
  readonly url: string;
  readonly schema: FastifySchema;
}

type JsonSchema = Record<string, unknown>;

const ERROR_DESCRIPTION =
  "Refused or failed; nothing changed. Body: { code, message, hint, docs, details } (docs/errors.md).";

function jsonSchema(schema: unknown, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema as z.ZodType, { io }) as JsonSchema;
  return rest;
}

/** `parameters` entries of one part (path or query) of a route, from its object schema. */
function parameters(schema: unknown, where: "path" | "query"): JsonSchema[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, "input");
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    schema: property,
  }));
}

function responses(schema: FastifySchema): Record<string, JsonSchema> {
  const answers: Record<string, JsonSchema> = {};
  if (schema.produces !== undefined) {
    answers["200"] = {
      description: schema.produces.description,
      content: {
        [schema.produces.contentType]: {
          schema: { type: "string", format: "binary" },
          ...(schema.produces.itemSchema === undefined
            ? {}
            : { "x-dpn-item-schema": jsonSchema(schema.produces.itemSchema, "output") }),
        },
      },
    };
  }
  for (const [status, body] of Object.entries((schema.response ?? {}) as Record<string, unknown>)) {
    const key = status.toUpperCase();
    answers[key] = {
      description: key.startsWith("2") ? "OK" : ERROR_DESCRIPTION,
      content: { "application/json": { schema: jsonSchema(body, "output") } },
    };
  }
  // Streams have no JSON schema for Fastify to check, but refuse with the same error body.
  for (const key of ["4XX", "5XX"]) {
    answers[key] ??= {
      description: ERROR_DESCRIPTION,
      content: { "application/json": { schema: jsonSchema(ErrorResponse, "output") } },
    };
  }
  return answers;
}

/** A type, not an interface: it must be assignable to the loose OpenApiResponse of the wire. */
export type OpenApiDocument = {
  readonly openapi: "3.1.0";
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: { readonly securitySchemes: Record<string, unknown> };
};

const READ_TOKEN = `A signed read: base64url (no padding) of the JSON { envelope, keys } of an envelope of kind "${READ_KIND}" whose payload is { method, path } of exactly this request (path without the query), living at most a minute. Anyone may use it for that one path while it lives; it is never consumed.`;

/** Where a signed read may travel (api/signedRead.ts): the header, or the query for EventSource. */
const SECURITY_SCHEMES = {
  dpnReadHeader: {
    type: "apiKey",
    in: "header",
    name: "authorization",
    description: `\`${READ_AUTH_SCHEME} <token>\`. ${READ_TOKEN}`,
  },
  dpnReadQuery: {
    type: "apiKey",
    in: "query",
    name: READ_QUERY_PARAM,
    description: `For clients that cannot set headers (EventSource, <img>). ${READ_TOKEN}`,
  },
};

/** The operation's `security`: either place; `{}` too when the read may be unsigned. */
function security(signedRead: "required" | "optional"): Array<Record<string, string[]>> {
  const either = [{ dpnReadHeader: [] }, { dpnReadQuery: [] }];
  return signedRead === "required" ? either : [...either, {}];
}

export class OpenApi {
  private readonly documented: DocumentedRoute[] = [];

  constructor(private readonly version: string) {}

  /** Records a route (an onRoute hook); HEAD routes are Fastify's automatic twins of GETs. */
  add(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === "HEAD") continue;
      this.documented.push({ method, url: route.url, schema: route.schema ?? {} });
    }
  }

  routes(): readonly DocumentedRoute[] {
    return this.documented;
  }

  document(): OpenApiDocument {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const { method, url, schema } of this.documented) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      const operation: Record<string, unknown> = {
        operationId: `${method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
        summary: schema.summary ?? "",
        parameters: [
          ...parameters(schema.params, "path"),
          ...parameters(schema.querystring, "query"),
          ...(schema.rawBody !== undefined && schema.signedPayload !== undefined
            ? [
                {
                  name: "x-dpn-request",
                  in: "header",
                  required: true,
                  description: `A signed ${schema.signedPayload.kind} request ({ envelope, keys }) as JSON.`,
                  schema: { type: "string" },
                },
              ]
            : []),
        ],
        responses: responses(schema),
      };
      if (schema.body !== undefined) {
        operation.requestBody = {
          required: true,
          content: { "application/json": { schema: jsonSchema(schema.body, "input") } },
        };
      }
      if (schema.rawBody !== undefined) {
        operation.requestBody = {
          required: true,
          content: { [schema.rawBody]: { schema: { type: "string", format: "binary" } } },
        };
      }
      if (schema.signedRead !== undefined) {
        operation.security = security(schema.signedRead);
        operation["x-dpn-signed-read"] = schema.signedRead;
      }
      if (schema.signedPayload !== undefined) {
        operation["x-dpn-signed-payload"] = {
          kind: schema.signedPayload.kind,
          schema: jsonSchema(schema.signedPayload.schema, "input"),
        };
      }
      paths[path] = { ...(paths[path] ?? {}), [method.toLowerCase()]: operation };
    }
    return {
      openapi: "3.1.0",
      info: {
        title: "DPN bank node",
        version: this.version,
        description:
          "State-changing requests are signed envelopes ({ envelope, keys }); x-dpn-signed-payload gives the envelope kind and the schema of its payload. Private reads (a job, its result and events, a private artifact) carry a signed read token (security: dpnReadHeader or dpnReadQuery; x-dpn-signed-read says whether it is required). Every refusal has the error body of docs/errors.md.",
      },
      paths,
      components: { securitySchemes: SECURITY_SCHEMES },
    };
  }
}
