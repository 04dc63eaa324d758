import { type DpnError, errorDocs, isDpnError } from "@dpn/protocol";
import { type ErrorResponse, READ_AUTH_SCHEME } from "@dpn/wire";
import type { FastifyInstance } from "fastify";
import { errorEntry, NODE_ERRORS } from "../errors.ts";

/**
 * The HTTP status of an error is its code's entry in the registry (../errors.ts). The JSON body
 * always carries the code, message, hint and the code's docs, so clients match on the code, never
 * on the status alone. A code missing from the registry (a test keeps them all registered) is
 * answered as a refusal, 400, as every unclassified code always was.
 */
export function statusOf(error: unknown): number {
  if (!isDpnError(error)) return 500;
  return errorEntry(error.code)?.status ?? 400;
}

/** The error body of a DpnError: its JSON and the docs of its code. */
export function errorBody(error: DpnError): ErrorResponse {
  return { ...error.toJSON(), docs: errorEntry(error.code)?.docs ?? errorDocs(error.code) };
}

/** Refusals of the HTTP layer (HTTP_<Fastify's code>) share one entry of the docs. */
export const HTTP_LAYER_DOCS = NODE_ERRORS.HTTP_FASTIFY.docs;

/**
 * Answers every failure with the error body: a DpnError with its code's status; Fastify's own
 * refusals (bad JSON, body too large, rate limit) with their status as HTTP_<code>; anything
 * else, a bug, as NODE_INTERNAL (logged, never with a stack trace in the answer).
 */
export function handleErrors(
  app: FastifyInstance,
  log: (level: "warn", message: string, data: Record<string, unknown>) => void,
): void {
  app.setErrorHandler((error, _request, reply) => {
    if (isDpnError(error)) {
      const status = statusOf(error);
      // RFC 9110 §11.6.1: a 401 names the scheme that would have been accepted.
      if (status === 401) reply.header("www-authenticate", READ_AUTH_SCHEME);
      const retryAfter = error.details.retryAfterSec;
      if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
      return reply.code(status).send(errorBody(error));
    }
    const fastifyError = error as { statusCode?: number; code?: string; message?: string };
    if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode < 500) {
      return reply.code(fastifyError.statusCode).send({
        code: `HTTP_${fastifyError.code ?? fastifyError.statusCode}`,
        message: fastifyError.message ?? "request refused",
        hint: "Check the request against /openapi.json.",
        docs: HTTP_LAYER_DOCS,
        details: {},
      });
    }
    log("warn", "request failed", { error: String(error) });
    return reply.code(500).send({
      code: "NODE_INTERNAL",
      message: "The node failed to handle the request.",
      docs: NODE_ERRORS.NODE_INTERNAL.docs,
      details: {},
    });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      code: "HTTP_NOT_FOUND",
      message: `No route ${request.method} ${request.url}.`,
      hint: "See /openapi.json.",
      docs: NODE_ERRORS.HTTP_NOT_FOUND.docs,
      details: {},
    }),
  );
}
