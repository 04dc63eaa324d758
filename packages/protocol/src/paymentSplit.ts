import { BPS_DENOMINATOR, checkAmount, shareBps } from "./amount.ts";
import { DpnError } from "./errors.ts";

/**
 * How a requester's payment for verified work is divided (docs/protocol.md §Payment split).
 * §3.4: 3% of every payment goes to the anti-monopoly fund. §4.3: what is spent is burned, at the
 * burn rate the burning controller sets each epoch (§4.2). The remainder goes to the reserve pool
 * that defends the peg (§4.3). The three parts always add up to the payment exactly.
 */
export interface PaymentSplit {
  readonly burn: bigint;
  readonly antiMonopolyFund: bigint;
  readonly reserve: bigint;
}

/** §3.4: "Extract 3% of transaction fees as an anti-monopoly special fund". */
export const ANTI_MONOPOLY_FUND_BPS = 300n;

export function splitPayment(
  payment: bigint,
  burnBps: bigint,
  antiMonopolyFundBps: bigint = ANTI_MONOPOLY_FUND_BPS,
): PaymentSplit {
  checkAmount("payment", payment);
  if (antiMonopolyFundBps < 0n || burnBps < 0n || burnBps + antiMonopolyFundBps > BPS_DENOMINATOR) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `burnBps (${burnBps}) plus antiMonopolyFundBps (${antiMonopolyFundBps}) must lie in [0, 10000].`,
      { hint: "The burn rate comes from the burning controller; pass its burnBps unchanged." },
    );
  }
  // Both shares round down; the reserve takes the remainder, so the sum is exact.
  const antiMonopolyFund = shareBps(payment, antiMonopolyFundBps);
  const burn = shareBps(payment, burnBps);
  return { burn, antiMonopolyFund, reserve: payment - antiMonopolyFund - burn };
}
