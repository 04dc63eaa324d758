import { z } from "zod";
import { BaseUnits } from "./common.ts";

/** The ledger's audit and supply over HTTP; every amount in base units (10⁻¹⁸ DPN). */

/** GET /v1/ledger/supply. */
export const SupplyResponse = z.strictObject({
  cap: BaseUnits,
  /** Genesis plus replenishments. */
  issued: BaseUnits,
  genesis: BaseUnits,
  replenished: BaseUnits,
  burned: BaseUnits,
  /** issued − burned. */
  outstanding: BaseUnits,
  emissionPool: BaseUnits,
  escrow: BaseUnits,
  bonded: BaseUnits,
  unbonding: BaseUnits,
});
export type SupplyResponse = z.infer<typeof SupplyResponse>;

/** GET /v1/ledger/verify: every invariant checked, recomputed from the postings. */
export const LedgerVerifyResponse = z.strictObject({
  ok: z.boolean(),
  checks: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), detail: z.string() })),
  supply: SupplyResponse,
  accounts: z.number().int(),
  postings: z.number().int(),
  entries: z.number().int(),
});
export type LedgerVerifyResponse = z.infer<typeof LedgerVerifyResponse>;

/**
 * GET /v1/ledger/epochs/{epoch}: a sealed epoch, every account's balance committed to under a
 * Merkle root (docs/protocol.md §Sealed epochs). The root is public: it is what settlement
 * publishes and what a job's assignment seed is drawn from (§Assignment seed).
 */
export const SealedEpochResponse = z.strictObject({
  epoch: z.number().int().positive(),
  /** 0x-prefixed SHA-256 Merkle root. */
  root: z.string().regex(/^0x[0-9a-f]{64}$/),
  /** The ledger's last posting included. */
  seq: z.number().int().nonnegative(),
  leafCount: z.number().int().nonnegative(),
  /** When it was sealed (ms since 1970). */
  atMs: z.number().int(),
});
export type SealedEpochResponse = z.infer<typeof SealedEpochResponse>;
