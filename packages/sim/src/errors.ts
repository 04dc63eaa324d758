import { type CodesOf, errorTable } from "@dpn/protocol";

/** The simulator's codes. */
export const SIM_ERRORS = errorTable({
  SIM_INVALID_OPTION: {
    status: 400,
    meaning: "A simulation option is invalid or inconsistent.",
  },
  SIM_INVARIANT_VIOLATED: {
    status: 500,
    meaning: "A simulated economy broke an invariant: a bug in the simulator.",
  },
});

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof SIM_ERRORS> {}
}
