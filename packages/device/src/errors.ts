import { type CodesOf, errorTable } from "@dpn/protocol";

/**
 * Stable error codes of the device agent. Each names what went wrong from the operator's point
 * of view; the CLI prints the code with the message and hint, and logs carry the code.
 */
export const DEVICE_OPTIONS_INVALID = "DEVICE_OPTIONS_INVALID";
/** The node's `/v1/node` endpoint could not be reached or answered with an error. */
export const DEVICE_NODE_UNREACHABLE = "DEVICE_NODE_UNREACHABLE";
/** The node published public keys that do not match its id, or a malformed identity. */
export const DEVICE_NODE_IDENTITY_INVALID = "DEVICE_NODE_IDENTITY_INVALID";
/** The node's id is not the pinned one (option `nodeId`, or the first one seen this session). */
export const DEVICE_NODE_ID_MISMATCH = "DEVICE_NODE_ID_MISMATCH";
/** A frame from the node is not an envelope of a known node message kind. */
export const DEVICE_FRAME_INVALID = "DEVICE_FRAME_INVALID";
/** A challenge asks for more work than MAX_CHALLENGE_ITERATIONS. */
export const DEVICE_CHALLENGE_TOO_LARGE = "DEVICE_CHALLENGE_TOO_LARGE";
/** A lease's items do not match its task type. */
export const DEVICE_TASK_INVALID = "DEVICE_TASK_INVALID";
/** A lease expired before its task finished; the work is abandoned. */
export const DEVICE_LEASE_EXPIRED = "DEVICE_LEASE_EXPIRED";
export const DEVICE_ARTIFACT_FETCH_FAILED = "DEVICE_ARTIFACT_FETCH_FAILED";
export const DEVICE_ARTIFACT_HASH_MISMATCH = "DEVICE_ARTIFACT_HASH_MISMATCH";
export const DEVICE_ARTIFACT_TOO_LARGE = "DEVICE_ARTIFACT_TOO_LARGE";
/** An executor produced output that does not match the message schema: a bug, not bad input. */
export const DEVICE_OUTPUT_INVALID = "DEVICE_OUTPUT_INVALID";
/** An executor failed on an item (e.g. a circuit input that violates a constraint). */
export const DEVICE_EXECUTION_FAILED = "DEVICE_EXECUTION_FAILED";
/** A message (in practice one task's results) exceeds the envelope payload limit. */
export const DEVICE_MESSAGE_TOO_LARGE = "DEVICE_MESSAGE_TOO_LARGE";

/** The codes above with their HTTP status and meaning (docs/errors.md). */
export const DEVICE_ERRORS = errorTable({
  DEVICE_ARTIFACT_FETCH_FAILED: {
    status: 400,
    meaning: "An artifact could not be downloaded from the node.",
  },
  DEVICE_ARTIFACT_HASH_MISMATCH: {
    status: 400,
    meaning: "A downloaded artifact does not have the SHA-256 it was asked by.",
  },
  DEVICE_ARTIFACT_TOO_LARGE: {
    status: 400,
    meaning: "An artifact is larger than the device accepts.",
  },
  DEVICE_CHALLENGE_TOO_LARGE: {
    status: 400,
    meaning: "A benchmark challenge asks for more work than the device accepts.",
  },
  DEVICE_EXECUTION_FAILED: {
    status: 400,
    meaning: "An executor failed on an item (e.g. a circuit input violating a constraint).",
  },
  DEVICE_FRAME_INVALID: {
    status: 400,
    meaning: "A frame from the node is not an envelope of a known node message.",
  },
  DEVICE_LEASE_EXPIRED: {
    status: 400,
    meaning: "A lease expired before its task finished; the work is abandoned.",
  },
  DEVICE_MESSAGE_TOO_LARGE: {
    status: 400,
    meaning: "A task's results exceed the envelope payload limit.",
  },
  DEVICE_NODE_IDENTITY_INVALID: {
    status: 400,
    meaning: "The node published keys that do not match its id.",
  },
  DEVICE_NODE_ID_MISMATCH: {
    status: 400,
    meaning: "The node's id is not the pinned one.",
  },
  DEVICE_NODE_UNREACHABLE: {
    status: 400,
    meaning: "The node's /v1/node could not be reached or answered an error.",
  },
  DEVICE_OPTIONS_INVALID: {
    status: 400,
    meaning: "The device agent's options are invalid.",
  },
  DEVICE_OUTPUT_INVALID: {
    status: 400,
    meaning: "An executor's output does not match the message schema: a bug.",
  },
  DEVICE_TASK_INVALID: {
    status: 400,
    meaning: "A lease's items do not match its task type.",
  },
});

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof DEVICE_ERRORS> {}
}
