import { DpnError } from "@dpn/protocol";
import { READ_AUTH_SCHEME, READ_KIND, READ_QUERY_PARAM, ReadBody, readTokenText } from "@dpn/wire";
import { MAX_READ_TTL_MS } from "../limits.ts";
import { type SignedContext, verifySigned } from "./signedRequest.ts";

/**
 * Signed reads (docs/adr/0015-signed-reads.md): a job, its result, its events and a private
 * artifact are read with a token of kind `read` that signs the method and the exact path. The
 * token rides in `authorization: DPN <token>` or, where a client cannot set headers (EventSource,
 * <img>), in `?dpn-read=<token>`.
 *
 * Reads do not pass the replay guard: a read changes nothing, a poll may send one token twice,
 * and remembering a nonce per poll would fill the guard's bounded memory with reads until it
 * refused the payments it exists for. What bounds a copied token instead is its path (it opens
 * that one resource, by that one method) and its life (MAX_READ_TTL_MS).
 */

/** The parts of a request a read is checked against. */
export interface ReadRequest {
  readonly method: string;
  /** The raw URL: path and query, percent-encoded as sent. */
  readonly url: string;
  readonly headers: { readonly authorization?: string | undefined };
}

const AUTH_PREFIX = `${READ_AUTH_SCHEME} `;

/** The token a request carries: its authorization header first, else its query parameter. */
function tokenOf(request: ReadRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith(AUTH_PREFIX)) {
    return header.slice(AUTH_PREFIX.length).trim();
  }
  const query = request.url.indexOf("?");
  if (query < 0) return undefined;
  return new URLSearchParams(request.url.slice(query + 1)).get(READ_QUERY_PARAM) ?? undefined;
}

function invalid(what: string): never {
  throw new DpnError("READ_TOKEN_INVALID", `The read token is unusable: ${what}.`, {
    hint: "Sign the read with the DPN SDK (signRead from @dpn/wire), which builds well-formed tokens.",
  });
}

/**
 * The id that signed the request's read token, or undefined when it carries none. A token that
 * is present must be valid and sign exactly this method and path: a bad one is refused, never
 * treated as absent.
 */
export function readSigner(
  request: ReadRequest,
  context: Omit<SignedContext, "replay">,
): string | undefined {
  const token = tokenOf(request);
  if (token === undefined) return undefined;
  const text = readTokenText(token);
  if (text === undefined) invalid("it is not base64url");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    invalid("it is not JSON");
  }
  const { sender, body, envelope } = verifySigned(raw, READ_KIND, ReadBody, context);
  if (envelope.expiresAtMs - envelope.issuedAtMs > MAX_READ_TTL_MS) {
    invalid(`it lives longer than ${MAX_READ_TTL_MS} ms`);
  }
  const path = request.url.split("?", 1)[0] ?? "";
  if (body.method !== request.method || body.path !== path) {
    throw new DpnError(
      "READ_PATH_MISMATCH",
      `The read token signs ${body.method} ${body.path}, not ${request.method} ${path}.`,
      {
        hint: "Sign a read of exactly the method and path you request (without the query string).",
      },
    );
  }
  return sender;
}

/** The signer of the request's read token; READ_UNSIGNED (401) when it carries none. */
export function requireReadSigner(
  request: ReadRequest,
  context: Omit<SignedContext, "replay">,
  what: string,
): string {
  const signer = readSigner(request, context);
  if (signer === undefined) {
    throw new DpnError("READ_UNSIGNED", `Reading ${what} needs a signed read.`, {
      hint: `Send authorization: ${READ_AUTH_SCHEME} <token> (or ?${READ_QUERY_PARAM}=<token>) signed by the requester; the DPN SDK does so when the client has an identity.`,
    });
  }
  return signer;
}

/** READ_FORBIDDEN (403) unless `owner` signed the read. */
export function requireOwner(signer: string, owner: string, what: string): void {
  if (signer !== owner) {
    throw new DpnError("READ_FORBIDDEN", `${what} belongs to another account.`, {
      hint: "Sign the read with the identity that submitted the job (or uploaded the artifact).",
      details: { signer },
    });
  }
}
