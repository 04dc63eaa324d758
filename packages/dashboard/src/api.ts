/**
 * The bank node the dashboard reads, through @dpn/sdk: every answer is checked against the API's
 * response schemas (@dpn/wire) before a page shows it. The node serves the dashboard itself, so
 * the client's base URL is "" (the page's own origin) and links stay same-origin paths.
 */
import { type DevicesResponse, DpnClient } from "@dpn/sdk";
import type { Identity } from "@dpn/wire";

export const dpn = new DpnClient({ url: "" });

/** One registered device, as GET /v1/devices reports it. */
export type Device = DevicesResponse["devices"][number];

/** The same node, signing with `identity`: for one request the user authorises with their key. */
export function signedBy(identity: Identity): DpnClient {
  return new DpnClient({ url: "", identity });
}
