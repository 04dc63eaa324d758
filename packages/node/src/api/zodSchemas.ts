import { DpnError } from "@dpn/protocol";
import { parseMessage } from "@dpn/wire";
import type { FastifyInstance, FastifyTypeProvider } from "fastify";
import type { z } from "zod";

/**
 * Route schemas are zod schemas (the same ones the SDK and the OpenAPI document use). This file
 * teaches Fastify to use them: the type provider types `request.params`, `query` and `body` from
 * the schemas, the validator turns a refusal into our own MESSAGE_INVALID (with the field and a
 * hint, as every other refusal), and the serializer writes responses.
 *
 * fastify-type-provider-zod does the same, but its validator answers FST_ERR_VALIDATION instead
 * of our code, and its serializer re-emits zod's parsed copy (keys in schema order, unknown keys
 * stripped), so clients would see different bytes. The glue is small enough to keep here.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends z.ZodType ? z.output<this["schema"]> : unknown;
  serializer: this["schema"] extends z.ZodType ? z.input<this["schema"]> : unknown;
}

declare module "fastify" {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    readonly summary?: string;
    /** For signed requests: the envelope's kind and the schema of its payload. */
    readonly signedPayload?: { readonly kind: string; readonly schema: z.ZodType };
    /**
     * A signed read (api/signedRead.ts): "required" for what only its owner may read, "optional"
     * where a public answer needs none (a published artifact).
     */
    readonly signedRead?: "required" | "optional";
    /** A request body that is not JSON: its content type (raw bytes). */
    readonly rawBody?: string;
    /** A 200 answer that is not JSON: its content type, and the schema of each item if any. */
    readonly produces?: {
      readonly contentType: string;
      readonly description: string;
      readonly itemSchema?: z.ZodType;
    };
  }
}

const PART_NAMES: Record<string, string> = {
  params: "path",
  querystring: "query",
  body: "request body",
  headers: "headers",
};

/**
 * Installs the zod compilers on `app`. With `validateResponses`, every JSON answer is checked
 * against its route's response schema before it is sent, and a mismatch is a coded 500
 * (NODE_RESPONSE_INVALID) naming the field: tests and development catch a response that drifted
 * from the published schema on every route they touch. Off, responses are written as they are:
 * production never turns a harmless extra field into an outage, and pays no second pass.
 */
export function useZodSchemas(app: FastifyInstance, validateResponses: boolean): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const zod = schema as z.ZodType;
    const what = PART_NAMES[httpPart ?? ""] ?? "request";
    return (data: unknown) => {
      try {
        return { value: parseMessage(zod, data, what) };
      } catch (error) {
        return { error: error as Error };
      }
    };
  });
  app.setSerializerCompiler(({ schema, url, method, httpStatus }) => {
    const zod = schema as z.ZodType;
    return (data: unknown) => {
      if (validateResponses) {
        const result = zod.safeParse(data);
        if (!result.success) {
          const issue = result.error.issues[0];
          throw new DpnError(
            "NODE_RESPONSE_INVALID",
            `The ${method} ${url} answer (${httpStatus}) does not match its schema at ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}.`,
            {
              hint: "This is a bug in the node: fix the handler or the schema in @dpn/wire.",
              details: { issues: result.error.issues.slice(0, 5) },
            },
          );
        }
      }
      return JSON.stringify(data);
    };
  });
}
