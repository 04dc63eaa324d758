import { DpnError } from "@dpn/protocol";
import { DEVICE_OPTIONS_INVALID } from "./errors.ts";

/**
 * The node's endpoints, resolved against `nodeUrl` (http or https, possibly with a path prefix,
 * e.g. behind a reverse proxy at https://host/dpn). The device channel uses the matching
 * WebSocket scheme.
 */
export function nodeEndpoint(nodeUrl: string, path: string, scheme: "http" | "ws" = "http"): URL {
  let base: URL;
  try {
    base = new URL(nodeUrl);
  } catch (error) {
    throw new DpnError(DEVICE_OPTIONS_INVALID, `nodeUrl "${nodeUrl}" is not a URL.`, {
      hint: "Pass the bank node's address, e.g. http://127.0.0.1:7400.",
      cause: error,
    });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new DpnError(
      DEVICE_OPTIONS_INVALID,
      `nodeUrl must be http or https, got ${base.protocol}`,
      {
        hint: "Pass the node's HTTP address; the agent derives the WebSocket address from it.",
      },
    );
  }
  // A relative path keeps a prefix: new URL("v1/node", "https://h/dpn/") is https://h/dpn/v1/node.
  if (!base.pathname.endsWith("/")) base.pathname = `${base.pathname}/`;
  const url = new URL(path.replace(/^\/+/, ""), base);
  if (scheme === "ws") url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  return url;
}

/** GET this for the node's public identity (id and both public keys). */
export const NODE_IDENTITY_ENDPOINT = "v1/node";
/** The device channel (packages/node's DEVICE_CHANNEL_PATH). */
export const DEVICE_CHANNEL_ENDPOINT = "v1/devices/ws";
