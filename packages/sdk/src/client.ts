import { createHash } from "node:crypto";
import { DpnError } from "@dpn/protocol";
import {
  FINAL_JOB_STATES,
  type Identity,
  type JobResult,
  type JobSubmit,
  type JobView,
  type MarketLiquidityBody,
  type MarketSwapBody,
  type PoolView,
  type RateEpochView,
  type ReserveOperationView,
  seal,
} from "@dpn/wire";

export type {
  JobResult,
  JobView,
  MarketLiquidityBody,
  MarketSwapBody,
  PoolView,
  RateEpochView,
  ReserveOperationView,
};

/**
 * A typed client of the bank node's HTTP API (see the node's /openapi.json). Requests that
 * change state are sealed with the caller's identity; errors come back as DpnError with the
 * node's code, message and hint.
 */
export interface NodeInfo {
  readonly id: string;
  readonly ed25519PublicKey: string;
  readonly mldsa44PublicKey: string;
  readonly version: string;
  readonly devicesOnline: number;
}

export interface ClientOptions {
  readonly url: string;
  /** The caller's identity; needed for anything that changes state. */
  readonly identity?: Identity;
  readonly now?: () => number;
}

/** States a job never leaves. */
const FINAL_STATES: ReadonlySet<string> = FINAL_JOB_STATES;

export class DpnClient {
  private readonly url: string;

  constructor(private readonly options: ClientOptions) {
    this.url = options.url.replace(/\/$/, "");
  }

  private identity(): Identity {
    if (this.options.identity === undefined) {
      throw new DpnError(
        "CLIENT_NO_IDENTITY",
        "This request must be signed, and the client has no identity.",
        {
          hint: "Create the client with an identity (dpn keys new; readKeyFile from @dpn/wire/node).",
        },
      );
    }
    return this.options.identity;
  }

  /** A signed request body: { envelope, keys }. */
  signed(
    kind: string,
    body: unknown,
  ): { envelope: unknown; keys: { ed25519PublicKey: string; mldsa44PublicKey: string } } {
    const identity = this.identity();
    return {
      envelope: seal(identity, kind, body, { nowMs: (this.options.now ?? Date.now)() }),
      keys: {
        ed25519PublicKey: Buffer.from(identity.ed25519PublicKey).toString("base64"),
        mldsa44PublicKey: Buffer.from(identity.mldsa44PublicKey).toString("base64"),
      },
    };
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers:
          body === undefined || body instanceof Uint8Array
            ? headers
            : { "content-type": "application/json", ...headers },
        ...(body === undefined
          ? {}
          : { body: body instanceof Uint8Array ? body : JSON.stringify(body) }),
      });
    } catch (error) {
      throw new DpnError("CLIENT_UNREACHABLE", `Cannot reach the node at ${this.url}.`, {
        hint: "Check the URL and that the node is running (dpn node).",
        cause: error,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === "" ? {} : JSON.parse(text);
    } catch {
      json = { message: text };
    }
    if (!response.ok) {
      const e = json as {
        code?: string;
        message?: string;
        hint?: string;
        details?: Record<string, unknown>;
      };
      // The node's code, which this program's registry need not know (a newer node).
      throw DpnError.received(
        e.code ?? `HTTP_${response.status}`,
        e.message ?? `HTTP ${response.status}`,
        {
          ...(e.hint === undefined ? {} : { hint: e.hint }),
          details: { status: response.status, ...(e.details ?? {}) },
        },
      );
    }
    return json as T;
  }

  node(): Promise<NodeInfo> {
    return this.request("GET", "/v1/node");
  }

  /** Uploads an artifact and returns its SHA-256 (the node stores it by content). */
  async uploadArtifact(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const header = JSON.stringify(this.signed("artifact.put", { sha256, bytes: bytes.length }));
    await this.request("PUT", `/v1/artifacts/${sha256}`, bytes, {
      "content-type": "application/octet-stream",
      "x-dpn-request": header,
    });
    return sha256;
  }

  /**
   * Downloads an artifact and checks that its bytes hash to `sha256` (the address is the proof:
   * a node or proxy that serves other bytes is caught here).
   */
  async downloadArtifact(sha256: string): Promise<Uint8Array> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw new DpnError("CLIENT_ARTIFACT_INVALID", `${sha256} is not a SHA-256 in hex.`, {
        hint: "Artifacts are addressed by 64 lowercase hex digits.",
      });
    }
    let response: Response;
    try {
      response = await fetch(`${this.url}/v1/artifacts/${sha256}`);
    } catch (error) {
      throw new DpnError("CLIENT_UNREACHABLE", `Cannot reach the node at ${this.url}.`, {
        hint: "Check the URL and that the node is running (dpn node).",
        cause: error,
      });
    }
    if (!response.ok) {
      // The node's error document, as request() reads it.
      const text = await response.text();
      let e: { code?: string; message?: string; hint?: string } = {};
      try {
        e = JSON.parse(text) as typeof e;
      } catch {
        e = { message: text };
      }
      throw DpnError.received(
        e.code ?? `HTTP_${response.status}`,
        e.message ?? `HTTP ${response.status}`,
        {
          ...(e.hint === undefined ? {} : { hint: e.hint }),
          details: { status: response.status, sha256 },
        },
      );
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (createHash("sha256").update(bytes).digest("hex") !== sha256) {
      throw new DpnError(
        "CLIENT_ARTIFACT_INVALID",
        `The node sent other bytes for artifact ${sha256}.`,
        {
          hint: "The node or something between is faulty; try again or ask another node.",
        },
      );
    }
    return bytes;
  }

  submitJob(submit: JobSubmit): Promise<JobView> {
    return this.request("POST", "/v1/jobs", this.signed("job.submit", submit));
  }

  job(jobId: string): Promise<JobView> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  /** A job's outputs in item order, and its kind's merged result (a render job's frames). */
  jobResult(jobId: string): Promise<JobResult> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}/result`);
  }

  cancelJob(jobId: string): Promise<JobView> {
    return this.request(
      "POST",
      `/v1/jobs/${encodeURIComponent(jobId)}/cancel`,
      this.signed("job.cancel", { jobId }),
    );
  }

  /** Polls a job until it reaches a final state, reporting progress on every change. */
  async waitForJob(
    jobId: string,
    onProgress?: (job: JobView) => void,
    pollMs = 250,
  ): Promise<JobView> {
    let last = "";
    for (;;) {
      const job = await this.job(jobId);
      const key = `${job.state}:${job.itemsDone}`;
      if (key !== last) {
        onProgress?.(job);
        last = key;
      }
      if (FINAL_STATES.has(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  balance(accountId: string): Promise<{ id: string; balance: string }> {
    return this.request("GET", `/v1/accounts/${accountId}`);
  }

  history(
    accountId: string,
    cursor?: string,
  ): Promise<{ entries: unknown[]; nextCursor: string | null }> {
    return this.request(
      "GET",
      `/v1/accounts/${accountId}/history${cursor === undefined ? "" : `?cursor=${encodeURIComponent(cursor)}`}`,
    );
  }

  transfer(to: string, amount: string, clientRef: string): Promise<{ seq: number }> {
    return this.request(
      "POST",
      "/v1/transfers",
      this.signed("transfer", { to, amount, clientRef }),
    );
  }

  ledgerVerify(): Promise<{ ok: boolean; [key: string]: unknown }> {
    return this.request("GET", "/v1/ledger/verify");
  }

  supply(): Promise<Record<string, string>> {
    return this.request("GET", "/v1/ledger/supply");
  }

  economics(): Promise<RateEpochView> {
    return this.request("GET", "/v1/economics/rate");
  }

  devices(): Promise<{ devices: Array<Record<string, unknown>> }> {
    return this.request("GET", "/v1/devices");
  }

  // ---- market (§4.5)

  pool(): Promise<PoolView> {
    return this.request("GET", "/v1/market/pool");
  }

  quote(side: MarketSwapBody["side"], amount: string): Promise<SwapQuoteView> {
    const query = new URLSearchParams({ side, amount });
    return this.request("GET", `/v1/market/quote?${query.toString()}`);
  }

  /** Swaps through the pool; a retry with the same clientRef never trades twice. */
  swap(body: MarketSwapBody): Promise<MarketChange> {
    return this.request("POST", "/v1/market/swaps", this.signed("market.swap", body));
  }

  liquidity(body: MarketLiquidityBody): Promise<MarketChange> {
    return this.request("POST", "/v1/market/liquidity", this.signed("market.liquidity", body));
  }

  reserve(): Promise<{ dpn: string; stable: string; operations: ReserveOperationView[] }> {
    return this.request("GET", "/v1/market/reserve");
  }
}

/** The caller's balance changes from a market operation (decimal strings; shares in base units). */
export interface MarketChange {
  readonly seq: number;
  readonly dpn: string;
  readonly stable: string;
  readonly shares: string;
}

export interface SwapQuoteView {
  readonly side: string;
  readonly amountIn: string;
  readonly amountOut: string;
  readonly fee: string;
  readonly priceImpact: number;
  readonly executionPrice: number;
  readonly spotPriceBefore: string;
  readonly spotPriceAfter: string;
}
