import { type CodesOf, errorTable } from "@dpn/protocol";

/** The command line's own codes (bad arguments and options). */
export const CLI_ERRORS = errorTable({
  CLI_INVALID_ARGUMENT: {
    status: 400,
    meaning: "A command's argument is invalid.",
  },
  CLI_RESULT_UNAVAILABLE: {
    status: 409,
    meaning: "The job has no result to write yet (not done, or a frame missing).",
  },
  CLI_INVALID_OPTION: {
    status: 400,
    meaning: "A command's option is invalid.",
  },
});

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof CLI_ERRORS> {}
}
