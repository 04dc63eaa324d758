import { z } from "zod";

/**
 * The OpenAPI document, generated from the same zod schemas that validate requests: each route
 * registers its description here when it is defined, so the document cannot drift from the code.
 */
export interface RouteDoc {
  readonly method: "get" | "post" | "put";
  readonly path: string;
  readonly summary: string;
  readonly body?: z.ZodType;
  /** For signed requests: the schema of the envelope's payload. */
  readonly signedPayload?: { readonly kind: string; readonly schema: z.ZodType };
  readonly rawBody?: string;
}

export class OpenApi {
  private readonly routes: RouteDoc[] = [];

  add(route: RouteDoc): void {
    this.routes.push(route);
  }

  document(version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.routes) {
      const path = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
      const parameters = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      }));
      const operation: Record<string, unknown> = {
        summary: route.summary,
        parameters,
        responses: {
          "200": { description: "OK (JSON)" },
          "4XX": {
            description:
              "The request was refused and nothing changed. Body: { code, message, hint, details }.",
          },
        },
      };
      if (route.body !== undefined) {
        operation.requestBody = {
          required: true,
          content: { "application/json": { schema: z.toJSONSchema(route.body) } },
        };
      }
      if (route.rawBody !== undefined) {
        operation.requestBody = {
          required: true,
          content: { [route.rawBody]: { schema: { type: "string", format: "binary" } } },
        };
      }
      if (route.signedPayload !== undefined) {
        operation["x-dpn-signed-payload"] = {
          kind: route.signedPayload.kind,
          schema: z.toJSONSchema(route.signedPayload.schema),
        };
      }
      paths[path] = { ...(paths[path] ?? {}), [route.method]: operation };
    }
    return {
      openapi: "3.1.0",
      info: {
        title: "DPN bank node",
        version,
        description:
          "State-changing requests are signed envelopes ({ envelope, keys }); x-dpn-signed-payload gives the envelope kind and the schema of its payload.",
      },
      paths,
    };
  }
}
