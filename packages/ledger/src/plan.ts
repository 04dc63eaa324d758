import type { PostingCommand } from "./commands.ts";
import { planBurn } from "./operations/burn.ts";
import { planCapturePayment } from "./operations/capturePayment.ts";
import { planGenesis } from "./operations/genesis.ts";
import {
  planCaptureHold,
  planExpireHold,
  planPlaceHold,
  planReleaseHold,
} from "./operations/holds.ts";
import {
  planAddLiquidity,
  planDepositStable,
  planRemoveLiquidity,
  planSwap,
  planWithdrawStable,
} from "./operations/market.ts";
import { planMint } from "./operations/mint.ts";
import { planReplenishEmission } from "./operations/replenish.ts";
import { planSlash } from "./operations/slash.ts";
import { planStake, planUnstake, planWithdrawUnbonded } from "./operations/staking.ts";
import { planTransfer } from "./operations/transfer.ts";
import type { LedgerState, Plan } from "./state.ts";

/** Dispatches a posting command to the planner of its kind. Pure: reads state, writes nothing. */
export function planCommand(command: PostingCommand, state: LedgerState, seq: number): Plan {
  switch (command.kind) {
    case "genesis":
      return planGenesis(command, state, seq);
    case "mint":
      return planMint(command, state);
    case "burn":
      return planBurn(command, state);
    case "transfer":
      return planTransfer(command, state);
    case "placeHold":
      return planPlaceHold(command, state, seq);
    case "captureHold":
      return planCaptureHold(command, state, seq);
    case "capturePayment":
      return planCapturePayment(command, state, seq);
    case "releaseHold":
      return planReleaseHold(command, state, seq);
    case "expireHold":
      return planExpireHold(command, state, seq);
    case "stake":
      return planStake(command, state);
    case "unstake":
      return planUnstake(command, state, seq);
    case "withdrawUnbonded":
      return planWithdrawUnbonded(command, state);
    case "slash":
      return planSlash(command, state);
    case "replenishEmission":
      return planReplenishEmission(command, state);
    case "depositStable":
      return planDepositStable(command, state);
    case "withdrawStable":
      return planWithdrawStable(command, state);
    case "swap":
      return planSwap(command, state);
    case "addLiquidity":
      return planAddLiquidity(command, state);
    case "removeLiquidity":
      return planRemoveLiquidity(command, state);
  }
}
