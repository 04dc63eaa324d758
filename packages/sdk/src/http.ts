import { DpnError } from "@dpn/protocol";
import { ErrorResponse } from "@dpn/wire";
import type { z } from "zod";

/**
 * One HTTP exchange with the node, for Node and browsers alike (fetch only): a refusal becomes a
 * DpnError with the node's code, message and hint; an answer that is not what the API promises
 * becomes CLIENT_RESPONSE_INVALID, naming the route, so a client never works on a guessed shape.
 */

/** The node could not be reached (DNS, refused connection, reset before an answer). */
export const CLIENT_UNREACHABLE = "CLIENT_UNREACHABLE";
/** The node answered 2xx with a body that is not JSON or does not match the route's schema. */
export const CLIENT_RESPONSE_INVALID = "CLIENT_RESPONSE_INVALID";

export interface CallOptions {
  /** Aborts the request; the promise then rejects with the signal's reason (an AbortError). */
  readonly signal?: AbortSignal | undefined;
}

export interface SendOptions extends CallOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A 429 is retried after its retry-after, this many times: the node refuses a rate-limited
 * request before it remembers the envelope's nonce, so the same request can be sent again. Past
 * this (or a wait longer than MAX_RETRY_AFTER_SEC) the refusal is the caller's to handle.
 */
export const MAX_RATE_LIMIT_RETRIES = 3;
/** Longer waits are not slept through: the caller sees the refusal and its retry-after. */
export const MAX_RETRY_AFTER_SEC = 60;

export class Http {
  constructor(
    private readonly baseUrl: string,
    private readonly rateLimitRetries = MAX_RATE_LIMIT_RETRIES,
  ) {}

  /** The URL of a path on the node ("" base: the page's own origin in a browser). */
  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /**
   * Sends a request and returns the raw response, whatever its status, except that a 429 with a
   * retry-after of at most MAX_RETRY_AFTER_SEC is waited out and sent again (rateLimitRetries).
   */
  async send(method: string, path: string, options: SendOptions = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.sendOnce(method, path, options);
      const wait = Number(response.headers.get("retry-after"));
      if (
        response.status !== 429 ||
        attempt >= this.rateLimitRetries ||
        !Number.isFinite(wait) ||
        wait <= 0 ||
        wait > MAX_RETRY_AFTER_SEC
      ) {
        return response;
      }
      await response.arrayBuffer().catch(() => undefined);
      await sleep(wait * 1000, options.signal);
    }
  }

  private async sendOnce(method: string, path: string, options: SendOptions): Promise<Response> {
    const { body, signal } = options;
    const raw = body === undefined || body instanceof Uint8Array;
    const headers = raw
      ? { ...options.headers }
      : { "content-type": "application/json", ...options.headers };
    try {
      return await fetch(this.url(path), {
        method,
        headers,
        ...(body === undefined
          ? {}
          : { body: body instanceof Uint8Array ? bytesBody(body) : JSON.stringify(body) }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      throw new DpnError(CLIENT_UNREACHABLE, `Cannot reach the node at ${this.url("")}.`, {
        hint: "Check the URL and that the node is running (dpn node).",
        details: { method, path },
        cause: error,
      });
    }
  }

  /** Sends a request and returns its JSON body; a non-2xx answer throws the node's error. */
  async json(method: string, path: string, options: SendOptions = {}): Promise<unknown> {
    const response = await this.send(method, path, options);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      throw new DpnError(CLIENT_UNREACHABLE, `${method} ${path}: the answer was cut off.`, {
        hint: "Retry; check that the node is running.",
        details: { method, path },
        cause: error,
      });
    }
    if (!response.ok) throw refusal(method, path, response.status, text);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new DpnError(
        CLIENT_RESPONSE_INVALID,
        `${method} ${path} answered ${response.status} with a body that is not JSON.`,
        {
          hint: "Check that the URL points at a DPN node (its /openapi.json describes the API).",
          details: { method, path, status: response.status },
          cause: error,
        },
      );
    }
  }

  /** Sends a request and parses its JSON body with the route's response schema. */
  async parsed<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    options: SendOptions = {},
  ): Promise<z.output<S>> {
    return parseResponse(schema, await this.json(method, path, options), method, path);
  }

  /** The error a non-2xx response stands for (its body read here). */
  async refusal(method: string, path: string, response: Response): Promise<DpnError> {
    const text = await response.text().catch(() => "");
    return refusal(method, path, response.status, text);
  }
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** fetch sends views of an ArrayBuffer; a view of shared memory is copied out first. */
function bytesBody(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

/**
 * A non-2xx answer as a DpnError: the node's { code, message, hint, details } (ErrorResponse).
 * A refusal that does not match the schema exactly still keeps its code and message: losing the
 * code would hide what went wrong.
 */
function refusal(method: string, path: string, status: number, text: string): DpnError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = ErrorResponse.safeParse(body);
  const e = parsed.success ? parsed.data : looseError(body);
  if (e === undefined) {
    // HTTP_<status> names a refusal that carried no code; it is not one of the registered codes.
    return DpnError.received(`HTTP_${status}`, `${method} ${path} answered ${status}.`, {
      hint: "The answer carried no DPN error code; check the URL and the node's log.",
      details: { status, method, path },
    });
  }
  // The node's code, which this program's registry need not know (a newer node).
  return DpnError.received(e.code, e.message, {
    ...(e.hint === undefined ? {} : { hint: e.hint }),
    details: { status, ...e.details, ...(e.docs === undefined ? {} : { docs: e.docs }) },
  });
}

function looseError(body: unknown): ErrorResponse | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { code, message, hint } = body as Record<string, unknown>;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return { code, message, ...(typeof hint === "string" ? { hint } : {}), details: {} };
}

/** Checks an answer against the route's response schema; a mismatch names the route and field. */
export function parseResponse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  method: string,
  path: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? "" : issue.path.join(".");
  throw new DpnError(
    CLIENT_RESPONSE_INVALID,
    `${method} ${path} answered a body that does not match its schema${field === "" ? "" : ` at ${field}`}: ${issue?.message ?? "invalid"}.`,
    {
      hint: "The node and this SDK speak different versions of the API; upgrade the older one.",
      details: { method, path, field, issues: result.error.issues.slice(0, 5) },
    },
  );
}
