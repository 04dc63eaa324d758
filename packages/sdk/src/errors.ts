import { type CodesOf, errorTable } from "@dpn/protocol";

/**
 * The client's own codes; everything else it throws carries the node's code (HTTP_<status> when
 * a refusal carried none).
 */
export const SDK_ERRORS = errorTable({
  CLIENT_ARTIFACT_INVALID: {
    status: 502,
    meaning: "The node sent other bytes than the artifact's SHA-256 names.",
  },
  CLIENT_NO_IDENTITY: {
    status: 400,
    meaning: "The request must be signed and the client has no identity.",
  },
  CLIENT_RESPONSE_INVALID: {
    status: 502,
    meaning:
      "The node answered with a body that is not JSON or does not match the route's response schema.",
  },
  CLIENT_STREAM_ENDED: {
    status: 502,
    meaning: "A job's event stream ended before the job did; subscribe again to resume.",
  },
  CLIENT_UNREACHABLE: {
    status: 400,
    meaning: "The node's URL cannot be reached.",
  },
});

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof SDK_ERRORS> {}
}
