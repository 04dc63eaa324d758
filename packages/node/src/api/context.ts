import type { IncomingMessage, ServerResponse } from "node:http";
import type { Ledger } from "@dpn/ledger";
import type { ProtocolParams } from "@dpn/protocol";
import { ErrorResponse, ReplayGuard, type SignaturePolicy } from "@dpn/wire";
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from "fastify";
import type { z } from "zod";
import type { ArtifactStore } from "../artifactStore.ts";
import type { Bank } from "../bank.ts";
import type { FingerprintSlots } from "../channel/fingerprints.ts";
import type { Market } from "../economics/market.ts";
import type { Oracle } from "../economics/oracle.ts";
import {
  ACCOUNT_REQUEST_BURST,
  ACCOUNT_REQUESTS_PER_SEC,
  MAX_TRACKED_ACCOUNTS,
} from "../limits.ts";
import type { NodeStore } from "../store/open.ts";
import { KeyedBuckets } from "../tokenBucket.ts";
import type { OpenApi } from "./openapi.ts";
import type { SignedContext } from "./signedRequest.ts";
import type { ZodTypeProvider } from "./zodSchemas.ts";

/** What the HTTP API's route plugins read and act on. */
export interface ApiDeps {
  readonly bank: Bank;
  readonly ledger: Ledger;
  readonly store: NodeStore;
  readonly artifacts: ArtifactStore;
  readonly market: Market;
  /** The DPN/USD and compute-price oracles (GET /v1/economics/prices). */
  readonly oracles: readonly Oracle[];
  /** Devices connected per hardware fingerprint; their owners may release them. */
  readonly fingerprints: FingerprintSlots;
  readonly now: () => number;
  readonly startedAtMs: number;
  readonly params: ProtocolParams;
  readonly policy: SignaturePolicy;
  readonly nodeInfo: () => NodeInfo;
  /** Collects the routes as they are registered and answers /openapi.json. */
  readonly openapi: OpenApi;
  /** Open job event streams allowed at once (MAX_EVENT_STREAMS unless a test lowers it). */
  readonly maxEventStreams: number;
  /** Signed requests per account: burst and per second (limits.ts unless a test lowers them). */
  readonly accountRequests?: { readonly burst: number; readonly perSec: number };
}

export interface NodeInfo {
  readonly id: string;
  readonly ed25519PublicKey: string;
  readonly mldsa44PublicKey: string;
  readonly version: string;
  readonly signaturePolicy: SignaturePolicy;
  readonly devicesOnline: number;
}

/** The deps plus what the plugins share: one replay guard and one account budget for every signed request. */
export interface ApiContext extends ApiDeps {
  signed(): SignedContext;
}

export function apiContext(deps: ApiDeps): ApiContext {
  const replay = new ReplayGuard();
  const accounts = new KeyedBuckets(
    deps.accountRequests?.burst ?? ACCOUNT_REQUEST_BURST,
    deps.accountRequests?.perSec ?? ACCOUNT_REQUESTS_PER_SEC,
    MAX_TRACKED_ACCOUNTS,
  );
  return {
    ...deps,
    signed: () => ({
      nowMs: deps.now(),
      startedAtMs: deps.startedAtMs,
      policy: deps.policy,
      replay,
      accounts,
    }),
  };
}

/** A Fastify scope whose route schemas are zod schemas (zodSchemas.ts). */
export type Api = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** One API area: its routes, registered in a scope of their own. */
export type ApiPlugin = (app: Api, context: ApiContext) => Promise<void>;

/**
 * A route's answers: its own by status, and the error body for every refusal (4xx) and failure
 * (5xx), so error bodies are checked and documented like any other answer.
 */
export function answers<const T extends Record<number, z.ZodType>>(
  ok: T,
): T & { "4xx": typeof ErrorResponse; "5xx": typeof ErrorResponse } {
  return { ...ok, "4xx": ErrorResponse, "5xx": ErrorResponse };
}
