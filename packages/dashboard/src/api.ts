/**
 * The bank node the dashboard reads, through @dpn/sdk: every answer is checked against the API's
 * response schemas (@dpn/wire) before a page shows it. The node serves the dashboard itself, so
 * the client's base URL is "" (the page's own origin) and links stay same-origin paths.
 */
import { type DevicesResponse, DpnClient } from "@dpn/sdk";
import type { Identity } from "@dpn/wire";
import { useSyncExternalStore } from "react";

/** The anonymous client: what anyone may read (devices, the rate, aggregates of jobs). */
export const dpn = new DpnClient({ url: "" });

/** One registered device, as GET /v1/devices reports it. */
export type Device = DevicesResponse["devices"][number];

/** The same node, signing with `identity`: for one request the user authorises with their key. */
export function signedBy(identity: Identity): DpnClient {
  return new DpnClient({ url: "", identity });
}

/**
 * Who reads: a job, its result, its events and its artifacts are their requester's, read with
 * signed reads (docs/adr/0015-signed-reads.md). The requester's key file, once chosen, is kept in
 * this tab's memory only — never stored, never sent (only signatures and public keys leave) —
 * and forgotten on sign-out or when the tab closes.
 */
export interface Reader {
  readonly identity: Identity | undefined;
  /** Signs its reads when signed in; otherwise the anonymous client. */
  readonly client: DpnClient;
}

let reader: Reader = { identity: undefined, client: dpn };
const listeners = new Set<() => void>();

function setReader(identity: Identity | undefined): void {
  reader = { identity, client: identity === undefined ? dpn : signedBy(identity) };
  for (const listener of listeners) listener();
}

export const signIn = (identity: Identity): void => setReader(identity);
export const signOut = (): void => setReader(undefined);

/** The reader now, re-rendering the component when it signs in or out. */
export function useReader(): Reader {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => reader,
  );
}
