import { base64urlnopad, utf8 } from "@scure/base";
import { z } from "zod";
import { bytesToBase64 } from "./encoding.ts";
import { type Envelope, seal } from "./envelope.ts";
import type { Identity } from "./identity.ts";

/**
 * A signed read (docs/protocol.md §Signed reads, docs/adr/0015-signed-reads.md): a GET has no
 * body, so the requester proves who reads with a short-lived envelope of kind `read` whose body
 * names the exact method and path (without the query). It travels as one base64url token of the
 * JSON `{ envelope, keys }` (the same pair a signed POST sends), either in the header
 *
 *   authorization: DPN <token>
 *
 * or, where a header cannot be set (a browser's EventSource, an <img>), in the query parameter
 * `dpn-read=<token>`. Bound to one path, a token opens nothing else; its short life bounds what
 * a copy of it (a log line, a shared link) can do.
 */
export const READ_KIND = "read";
/** The authorization scheme of a signed read. */
export const READ_AUTH_SCHEME = "DPN";
/** The query parameter that carries a signed read where headers cannot be set. */
export const READ_QUERY_PARAM = "dpn-read";
/**
 * How long a read token lives: long enough for a slow request, short enough that a token copied
 * out of a URL is soon worthless. The node refuses longer ones (MAX_READ_TTL_MS).
 */
export const READ_TTL_MS = 60_000;

/** What a read envelope signs: the request it opens, nothing more. */
export const ReadBody = z.strictObject({
  method: z.enum(["GET", "HEAD"]),
  /** The request's path exactly as sent (percent-encoded), without the query string. */
  path: z.string().min(1).max(2048),
});
export type ReadBody = z.infer<typeof ReadBody>;

export interface ReadToken {
  readonly envelope: Envelope;
  readonly keys: { readonly ed25519PublicKey: string; readonly mldsa44PublicKey: string };
}

/** Signs a read of `path` (no query string) and returns its token (base64url, no padding). */
export function signRead(
  identity: Identity,
  path: string,
  nowMs: number,
  method: ReadBody["method"] = "GET",
): string {
  const body: ReadBody = { method, path };
  const token: ReadToken = {
    envelope: seal(identity, READ_KIND, body, { nowMs, ttlMs: READ_TTL_MS }),
    keys: {
      ed25519PublicKey: bytesToBase64(identity.ed25519PublicKey),
      mldsa44PublicKey: bytesToBase64(identity.mldsa44PublicKey),
    },
  };
  return base64urlnopad.encode(utf8.decode(JSON.stringify(token)));
}

/** The token's JSON text; undefined when it is not base64url of UTF-8. */
export function readTokenText(token: string): string | undefined {
  try {
    return utf8.encode(base64urlnopad.decode(token));
  } catch {
    return undefined;
  }
}

/** The authorization header of a signed read of `path`. */
export function readAuthorization(identity: Identity, path: string, nowMs: number): string {
  return `${READ_AUTH_SCHEME} ${signRead(identity, path, nowMs)}`;
}
