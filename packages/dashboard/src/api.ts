/**
 * The read-only slice of the bank node's HTTP API the dashboard shows (routes in
 * packages/node/src/api/routes/, one file per area; the full contract is /openapi.json). The
 * dashboard is served by the node itself, so every path is same-origin.
 */
import type { JobView, PoolView, RateEpochView, ReserveOperationView } from "@dpn/wire";

export type { PoolView, ReserveOperationView };

/** A job as the node reports it: the wire contract's JobView (a type-only import; no runtime code). */
export type Job = JobView;
export type Fragment = JobView["fragments"][number];

export interface Device {
  readonly deviceId: string;
  readonly owner: string;
  readonly deviceClass: string;
  readonly declaredClass: string;
  readonly layer: string;
  readonly longTail: boolean;
  readonly geohash: string;
  readonly cuPerSec: number;
  readonly reputation: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly earned: string;
  readonly online: boolean;
  /** Continuous operating days and the reward decay reached (rigs decay; others stay at 1). */
  readonly operatingDays: number;
  readonly decay: number;
}

/** Decimal strings; poolShares in base units. */
export interface Account {
  readonly id: string;
  readonly balance: string;
  readonly held: string;
  readonly openHolds: number;
  readonly stable: string;
  readonly poolShares: string;
}

/** One epoch of the exchange rate: the wire contract's RateEpochView. */
export type RateEpoch = RateEpochView;

export interface OracleRound {
  readonly oracle: string;
  readonly atMs: number;
  readonly value: number;
  readonly status: string;
  readonly median: number | null;
  readonly reference: number | null;
  readonly liveFeeds: readonly string[];
  readonly rejected: ReadonlyArray<unknown>;
}

/** Base-unit strings (10⁻¹⁸ DPN). */
export interface Supply {
  readonly cap: string;
  readonly issued: string;
  readonly burned: string;
  readonly outstanding: string;
  readonly emissionPool: string;
  readonly circulation: string;
  readonly [key: string]: string;
}

export interface HistoryEntry {
  readonly seq: number;
  readonly atMs: number;
  readonly kind: string;
  readonly idempotencyKey: string;
  readonly amount: string;
  readonly balanceAfter: string;
}

export interface NodeInfo {
  readonly id: string;
  readonly version: string;
  readonly devicesOnline: number;
}

/** An error answered by the node ({ code, message, hint }) or by the network. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
}

function field(body: unknown, key: string): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

/** GETs a JSON document from the node; a non-2xx answer becomes an ApiError with its code. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, signal === undefined ? {} : { signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError("NETWORK", `The node at ${path} did not answer.`, undefined, 0);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    throw new ApiError(
      field(body, "code") ?? `HTTP_${response.status}`,
      field(body, "message") ?? `${path} answered ${response.status}.`,
      field(body, "hint"),
      response.status,
    );
  }
  return body as T;
}

/** POSTs a JSON body (a signed request) to the node; errors as in getJson. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("NETWORK", `The node at ${path} did not answer.`, undefined, 0);
  }
  const answer: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    throw new ApiError(
      field(answer, "code") ?? `HTTP_${response.status}`,
      field(answer, "message") ?? `${path} answered ${response.status}.`,
      field(answer, "hint"),
      response.status,
    );
  }
  return answer as T;
}

export const api = {
  node: (s?: AbortSignal) => getJson<NodeInfo>("/v1/node", s),
  jobs: (s?: AbortSignal) => getJson<{ jobs: Job[] }>("/v1/jobs", s),
  job: (id: string, s?: AbortSignal) => getJson<Job>(`/v1/jobs/${encodeURIComponent(id)}`, s),
  resultUrl: (id: string) => `/v1/jobs/${encodeURIComponent(id)}/result`,
  devices: (s?: AbortSignal) => getJson<{ devices: Device[] }>("/v1/devices", s),
  account: (id: string, s?: AbortSignal) =>
    getJson<Account>(`/v1/accounts/${encodeURIComponent(id)}`, s),
  history: (id: string, cursor: string | null, s?: AbortSignal) =>
    getJson<{ entries: HistoryEntry[]; nextCursor: string | null }>(
      `/v1/accounts/${encodeURIComponent(id)}/history?limit=50${
        cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`
      }`,
      s,
    ),
  rate: (s?: AbortSignal) => getJson<RateEpoch>("/v1/economics/rate", s),
  rates: (limit: number, s?: AbortSignal) =>
    getJson<{ epochs: RateEpoch[] }>(`/v1/economics/rates?limit=${limit}`, s),
  oracle: (limit: number, s?: AbortSignal) =>
    getJson<{ rounds: OracleRound[] }>(`/v1/economics/oracle?limit=${limit}`, s),
  supply: (s?: AbortSignal) => getJson<Supply>("/v1/economics/supply", s),
  pool: (s?: AbortSignal) => getJson<PoolView>("/v1/market/pool", s),
  reserve: (limit: number, s?: AbortSignal) =>
    getJson<{ dpn: string; stable: string; operations: ReserveOperationView[] }>(
      `/v1/market/reserve?limit=${limit}`,
      s,
    ),
};
