import { DpnError, isDpnError } from "@dpn/protocol";
import {
  AccountResponse,
  ArtifactPutResponse,
  bytesToBase64,
  DeviceReleaseResponse,
  DevicesResponse,
  EconomicsSupplyResponse,
  type Envelope,
  FINAL_JOB_STATES,
  HistoryResponse,
  type Identity,
  JobAssignmentResponse,
  JobListResponse,
  JobResponse,
  JobResultResponse,
  type JobSubmit,
  JobSummaryResponse,
  type JobView,
  LedgerVerifyResponse,
  MarketChangeResponse,
  type MarketLiquidityBody,
  type MarketSwapBody,
  NodeInfoResponse,
  OracleResponse,
  PoolResponse,
  PricesResponse,
  QuoteResponse,
  RateEpochResponse,
  RatesResponse,
  READ_QUERY_PARAM,
  ReserveResponse,
  readAuthorization,
  SealedEpochResponse,
  SupplyResponse,
  seal,
  signRead,
  TransferResponse,
} from "@dpn/wire";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { z } from "zod";
import { type CallOptions, Http, sleep } from "./http.ts";
import { jobEvents } from "./jobEvents.ts";

/**
 * A typed client of the bank node's HTTP API (see the node's /openapi.json), for Node and
 * browsers alike (fetch, no node:* modules). Every answer is checked against the route's response
 * schema from @dpn/wire and typed by it; requests that change state are sealed with the caller's
 * identity; errors come back as DpnError with the node's code, message and hint.
 */

/**
 * Times waitForJob picks its job's stream up again (after a node restart, a dropped connection,
 * a node out of streams) before it gives up: a job is followed through a few restarts, not for
 * ever against a node that keeps dropping it.
 */
export const MAX_STREAM_RESUMES = 100;

export interface ClientOptions {
  /** The node's base URL; "" in a page the node serves means its own origin. */
  readonly url: string;
  /**
   * The caller's identity; needed for anything that changes state, and to read one's own jobs,
   * results, event streams and private artifacts (each read is signed for its path).
   */
  readonly identity?: Identity;
  readonly now?: () => number;
  /**
   * Times a rate-limited request (429) is sent again after the node's retry-after (default
   * MAX_RATE_LIMIT_RETRIES; 0 hands every 429 to the caller).
   */
  readonly rateLimitRetries?: number;
}

export interface UploadOptions extends CallOptions {
  /** Anyone may read the artifact (a circuit shared on purpose); private by default. */
  readonly public?: boolean;
}

/** A listing's `?limit=` (1 to 1,000; each route has its default). */
export interface ListOptions extends CallOptions {
  readonly limit?: number;
}

export interface HistoryOptions extends ListOptions {
  /** The previous page's nextCursor. */
  readonly cursor?: string;
}

/** A signed request body: the envelope and the public keys its `from` id commits to. */
export interface SignedBody {
  readonly envelope: Envelope;
  readonly keys: { readonly ed25519PublicKey: string; readonly mldsa44PublicKey: string };
}

export const CLIENT_NO_IDENTITY = "CLIENT_NO_IDENTITY";

const at = (segment: string): string => encodeURIComponent(segment);

function query(values: Readonly<Record<string, string | number | undefined>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

export class DpnClient {
  private readonly http: Http;

  constructor(private readonly options: ClientOptions) {
    this.http = new Http(options.url.replace(/\/$/, ""), options.rateLimitRetries);
  }

  private identity(): Identity {
    if (this.options.identity === undefined) {
      throw new DpnError(
        CLIENT_NO_IDENTITY,
        "This request must be signed, and the client has no identity.",
        {
          hint: "Create the client with an identity (dpn keys new; readKeyFile from @dpn/wire/node).",
        },
      );
    }
    return this.options.identity;
  }

  /** A signed request body: { envelope, keys }. */
  signed(kind: string, body: unknown): SignedBody {
    const identity = this.identity();
    return {
      envelope: seal(identity, kind, body, { nowMs: (this.options.now ?? Date.now)() }),
      keys: {
        ed25519PublicKey: bytesToBase64(identity.ed25519PublicKey),
        mldsa44PublicKey: bytesToBase64(identity.mldsa44PublicKey),
      },
    };
  }

  /**
   * The headers of a signed read of `path` (no query string): `authorization: DPN <token>`, or
   * none without an identity (the node then answers READ_UNSIGNED for what is private).
   */
  readHeaders(path: string): Record<string, string> {
    const identity = this.options.identity;
    if (identity === undefined) return {};
    return { authorization: readAuthorization(identity, path, (this.options.now ?? Date.now)()) };
  }

  /**
   * `path` with a signed read in its query, for what cannot send headers (a link, an <img>, a
   * browser's EventSource); unchanged without an identity. The token lives READ_TTL_MS (a
   * minute) and opens that one path: make the URL when it is used, not ahead of time.
   */
  private signedPath(path: string): string {
    const identity = this.options.identity;
    if (identity === undefined) return path;
    const token = signRead(identity, path, (this.options.now ?? Date.now)());
    return `${path}?${READ_QUERY_PARAM}=${token}`;
  }

  /** A GET of a private resource: signed when the client has an identity. */
  private read<S extends z.ZodType>(
    schema: S,
    path: string,
    options: CallOptions,
  ): Promise<z.output<S>> {
    return this.http.parsed(schema, "GET", path, { ...options, headers: this.readHeaders(path) });
  }

  /**
   * Any route, unchecked: the JSON body of a 2xx answer, or the node's error. For routes this
   * client has no method for (and for probing refusals); the methods below check their answers.
   */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<unknown> {
    return this.http.json(method, path, { body, headers });
  }

  /** The absolute (or same-origin) URL of a path on the node, e.g. for a link or an image. */
  url(path: string): string {
    return this.http.url(path);
  }

  // ---- node

  node(options: CallOptions = {}): Promise<NodeInfoResponse> {
    return this.http.parsed(NodeInfoResponse, "GET", "/v1/node", options);
  }

  // ---- artifacts

  /**
   * Uploads an artifact and returns its SHA-256 (the node stores it by content). It is private
   * (readable by this identity and by the devices leased a task that needs it) unless `public`.
   */
  async uploadArtifact(bytes: Uint8Array, options: UploadOptions = {}): Promise<string> {
    const digest = bytesToHex(sha256(bytes));
    const header = JSON.stringify(
      this.signed("artifact.put", {
        sha256: digest,
        bytes: bytes.length,
        ...(options.public === true ? { public: true } : {}),
      }),
    );
    const stored = await this.http.parsed(ArtifactPutResponse, "PUT", `/v1/artifacts/${digest}`, {
      ...options,
      body: bytes,
      headers: { "content-type": "application/octet-stream", "x-dpn-request": header },
    });
    return stored.sha256;
  }

  /**
   * Downloads an artifact and checks that its bytes hash to `sha256Hex` (the address is the
   * proof: a node or proxy that serves other bytes is caught here).
   */
  async downloadArtifact(sha256Hex: string, options: CallOptions = {}): Promise<Uint8Array> {
    const path = `/v1/artifacts/${at(sha256Hex)}`;
    const response = await this.http.send("GET", path, {
      ...options,
      headers: this.readHeaders(path),
    });
    if (!response.ok) throw await this.http.refusal("GET", path, response);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytesToHex(sha256(bytes)) !== sha256Hex) {
      throw new DpnError(
        "CLIENT_ARTIFACT_INVALID",
        `The node sent other bytes for artifact ${sha256Hex}.`,
        { hint: "The node or something between is faulty; try again or ask another node." },
      );
    }
    return bytes;
  }

  /**
   * Where an artifact is downloaded from (GET, raw bytes): with a signed read in the query when
   * the client has an identity, valid for a minute (signedPath).
   */
  artifactUrl(sha256Hex: string): string {
    return this.url(this.signedPath(`/v1/artifacts/${at(sha256Hex)}`));
  }

  // ---- jobs

  async submitJob(submit: JobSubmit, options: CallOptions = {}): Promise<JobView> {
    return this.http.parsed(JobResponse, "POST", "/v1/jobs", {
      ...options,
      body: this.signed("job.submit", submit),
    });
  }

  /** This identity's most recent jobs, newest first (a signed read: READ_UNSIGNED without one). */
  jobs(options: CallOptions = {}): Promise<JobListResponse> {
    return this.read(JobListResponse, "/v1/jobs", options);
  }

  /** Jobs by state and the CU open now: the aggregates anyone may read. */
  jobSummary(options: CallOptions = {}): Promise<JobSummaryResponse> {
    return this.http.parsed(JobSummaryResponse, "GET", "/v1/jobs/summary", options);
  }

  /** A job of this identity's (READ_UNSIGNED without an identity, READ_FORBIDDEN if another's). */
  job(jobId: string, options: CallOptions = {}): Promise<JobView> {
    return this.read(JobResponse, `/v1/jobs/${at(jobId)}`, options);
  }

  jobResult(jobId: string, options: CallOptions = {}): Promise<JobResultResponse> {
    return this.read(JobResultResponse, `/v1/jobs/${at(jobId)}/result`, options);
  }

  /** A job's recorded assignments, to re-run with the protocol's assignFragments (a signed read). */
  jobAssignment(jobId: string, options: CallOptions = {}): Promise<JobAssignmentResponse> {
    return this.read(JobAssignmentResponse, `/v1/jobs/${at(jobId)}/assignment`, options);
  }

  /**
   * Where a job's result is downloaded from (GET, JSON), e.g. for a link: with a signed read in
   * the query when the client has an identity, valid for a minute (signedPath).
   */
  jobResultUrl(jobId: string): string {
    return this.url(this.signedPath(`/v1/jobs/${at(jobId)}/result`));
  }

  /**
   * A job, live: its view now and on every change of state or progress, from the node's event
   * stream. The iteration ends after the view with a final state; a stream that ends before that
   * (the node restarted, the connection dropped) throws CLIENT_STREAM_ENDED, and subscribing
   * again resumes with the view at that time. Stop early with `break` or the signal.
   */
  jobEvents(jobId: string, options: CallOptions = {}): AsyncGenerator<JobView, void, undefined> {
    return jobEvents(this.http, jobId, options, (path) => this.readHeaders(path));
  }

  async cancelJob(jobId: string, options: CallOptions = {}): Promise<JobView> {
    return this.http.parsed(JobResponse, "POST", `/v1/jobs/${at(jobId)}/cancel`, {
      ...options,
      body: this.signed("job.cancel", { jobId }),
    });
  }

  /**
   * Follows a job until it reaches a final state, reporting progress on every change: over the
   * job's event stream (one request, pushed changes; polling every 250 ms from a few clients on one
   * host ran into the node's per-address limit). A stream that ends early is resumed (its first
   * event is the view at that time); when the node has no stream to spare (NODE_OVERLOADED) the
   * view is read once and the stream tried again after `retryMs`.
   */
  async waitForJob(
    jobId: string,
    onProgress?: (job: JobView) => void,
    options: CallOptions & { readonly retryMs?: number } = {},
  ): Promise<JobView> {
    let last = "";
    const seen = (job: JobView): boolean => {
      const key = `${job.state}:${job.itemsDone}`;
      if (key !== last) {
        onProgress?.(job);
        last = key;
      }
      return FINAL_JOB_STATES.has(job.state);
    };
    for (let resumes = 0; ; resumes++) {
      try {
        for await (const job of this.jobEvents(jobId, options)) if (seen(job)) return job;
      } catch (error) {
        const resumable =
          isDpnError(error) &&
          (error.code === "CLIENT_STREAM_ENDED" || error.code === "NODE_OVERLOADED");
        if (!resumable || resumes >= MAX_STREAM_RESUMES) throw error;
        const job = await this.job(jobId, options);
        if (seen(job)) return job;
        if (error.code === "NODE_OVERLOADED") await sleep(options.retryMs ?? 1_000, options.signal);
      }
    }
  }

  // ---- accounts

  /** An account's balances: DPN spendable and held, stable units, pool shares. */
  balance(accountId: string, options: CallOptions = {}): Promise<AccountResponse> {
    return this.http.parsed(AccountResponse, "GET", `/v1/accounts/${at(accountId)}`, options);
  }

  /** An account's postings, newest first; pass nextCursor back as `cursor` for older ones. */
  history(accountId: string, options: HistoryOptions = {}): Promise<HistoryResponse> {
    const path = `/v1/accounts/${at(accountId)}/history${query({ limit: options.limit, cursor: options.cursor })}`;
    return this.http.parsed(HistoryResponse, "GET", path, options);
  }

  /** Sends DPN; a retry with the same clientRef never pays twice. */
  async transfer(
    to: string,
    amount: string,
    clientRef: string,
    options: CallOptions = {},
  ): Promise<TransferResponse> {
    return this.http.parsed(TransferResponse, "POST", "/v1/transfers", {
      ...options,
      body: this.signed("transfer", { to, amount, clientRef }),
    });
  }

  // ---- ledger

  /** Audits the ledger's invariants, recomputed from the postings. */
  ledgerVerify(options: CallOptions = {}): Promise<LedgerVerifyResponse> {
    return this.http.parsed(LedgerVerifyResponse, "GET", "/v1/ledger/verify", options);
  }

  /** Issued, burned, outstanding and the pools, in base units. */
  supply(options: CallOptions = {}): Promise<SupplyResponse> {
    return this.http.parsed(SupplyResponse, "GET", "/v1/ledger/supply", options);
  }

  /** A sealed ledger epoch (its Merkle root and seal time); EPOCH_NOT_SEALED (404) if none. */
  ledgerEpoch(epoch: number, options: CallOptions = {}): Promise<SealedEpochResponse> {
    return this.http.parsed(SealedEpochResponse, "GET", `/v1/ledger/epochs/${epoch}`, options);
  }

  // ---- economics

  /** The exchange rate in force, its inputs and the burn decision. */
  economics(options: CallOptions = {}): Promise<RateEpochResponse> {
    return this.http.parsed(RateEpochResponse, "GET", "/v1/economics/rate", options);
  }

  /** The recorded epochs of the exchange rate, newest first. */
  rates(options: ListOptions = {}): Promise<RatesResponse> {
    const path = `/v1/economics/rates${query({ limit: options.limit })}`;
    return this.http.parsed(RatesResponse, "GET", path, options);
  }

  /** One oracle's recent rounds, newest first: the DPN/USD oracle unless `oracle` says. */
  oracle(
    options: ListOptions & { readonly oracle?: "dpn-usd" | "compute-usd" } = {},
  ): Promise<OracleResponse> {
    const path = `/v1/economics/oracle${query({ limit: options.limit, oracle: options.oracle })}`;
    return this.http.parsed(OracleResponse, "GET", path, options);
  }

  /** Both oracles: each price in force, whether it is held and how old, and each feed's kind. */
  prices(options: CallOptions = {}): Promise<PricesResponse> {
    return this.http.parsed(PricesResponse, "GET", "/v1/economics/prices", options);
  }

  /** The ledger's supply with the circulation of the last epoch. */
  economicsSupply(options: CallOptions = {}): Promise<EconomicsSupplyResponse> {
    return this.http.parsed(EconomicsSupplyResponse, "GET", "/v1/economics/supply", options);
  }

  // ---- devices

  devices(options: CallOptions = {}): Promise<DevicesResponse> {
    return this.http.parsed(DevicesResponse, "GET", "/v1/devices", options);
  }

  /**
   * Disconnects this identity's devices (it is their owner) on a hardware fingerprint, so other
   * agents on that machine can register: the node admits MAX_DEVICES_PER_FINGERPRINT at once.
   */
  releaseDevices(fingerprint: string, options: CallOptions = {}): Promise<DeviceReleaseResponse> {
    return this.http.parsed(DeviceReleaseResponse, "POST", "/v1/devices/release", {
      ...options,
      body: this.signed("device.release", { fingerprint }),
    });
  }

  // ---- market (§4.5)

  pool(options: CallOptions = {}): Promise<PoolResponse> {
    return this.http.parsed(PoolResponse, "GET", "/v1/market/pool", options);
  }

  /** What a swap would pay now, without trading. */
  quote(
    side: MarketSwapBody["side"],
    amount: string,
    options: CallOptions = {},
  ): Promise<QuoteResponse> {
    return this.http.parsed(
      QuoteResponse,
      "GET",
      `/v1/market/quote${query({ side, amount })}`,
      options,
    );
  }

  /** Swaps through the pool; a retry with the same clientRef never trades twice. */
  async swap(body: MarketSwapBody, options: CallOptions = {}): Promise<MarketChangeResponse> {
    return this.http.parsed(MarketChangeResponse, "POST", "/v1/market/swaps", {
      ...options,
      body: this.signed("market.swap", body),
    });
  }

  async liquidity(
    body: MarketLiquidityBody,
    options: CallOptions = {},
  ): Promise<MarketChangeResponse> {
    return this.http.parsed(MarketChangeResponse, "POST", "/v1/market/liquidity", {
      ...options,
      body: this.signed("market.liquidity", body),
    });
  }

  /** The reserve's holdings and its anti-decoupling decisions, newest first. */
  reserve(options: ListOptions = {}): Promise<ReserveResponse> {
    const path = `/v1/market/reserve${query({ limit: options.limit })}`;
    return this.http.parsed(ReserveResponse, "GET", path, options);
  }
}
