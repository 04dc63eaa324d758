export { DpnError, isDpnError } from "@dpn/protocol";
export type {
  AccountResponse,
  DevicesResponse,
  EconomicsSupplyResponse,
  HistoryResponse,
  JobListResponse,
  JobResultResponse,
  JobSummaryResponse,
  JobView,
  LedgerVerifyResponse,
  MarketChangeResponse,
  MarketLiquidityBody,
  MarketSwapBody,
  NodeInfoResponse,
  OracleResponse,
  PoolResponse,
  PricesResponse,
  QuoteResponse,
  RateEpochResponse,
  RatesResponse,
  ReserveResponse,
  SupplyResponse,
  TransferResponse,
} from "@dpn/wire";
export * from "./client.ts";
export * from "./errors.ts";
export { type CallOptions, CLIENT_RESPONSE_INVALID, CLIENT_UNREACHABLE } from "./http.ts";
export { CLIENT_STREAM_ENDED } from "./jobEvents.ts";
