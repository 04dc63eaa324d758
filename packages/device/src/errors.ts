import { type CodesOf, errorTable } from "@dpn/protocol";

/**
 * Stable error codes of the device agent. Each names what went wrong from the operator's point
 * of view; the CLI prints the code with the message and hint, and logs carry the code. The
 * channel's own codes live with the device session in @dpn/wire and are re-exported here.
 */
export {
  DEVICE_CHALLENGE_TOO_LARGE,
  DEVICE_FRAME_FLOOD,
  DEVICE_FRAME_INVALID,
  DEVICE_LEASE_EXPIRED,
  DEVICE_MESSAGE_TOO_LARGE,
  DEVICE_NODE_ID_MISMATCH,
  DEVICE_NODE_IDENTITY_INVALID,
  DEVICE_NODE_UNREACHABLE,
  DEVICE_OPTIONS_INVALID,
  DEVICE_STOPPING,
} from "@dpn/wire";
/** A lease's items do not match its task type. */
export const DEVICE_TASK_INVALID = "DEVICE_TASK_INVALID";
export const DEVICE_ARTIFACT_FETCH_FAILED = "DEVICE_ARTIFACT_FETCH_FAILED";
export const DEVICE_ARTIFACT_HASH_MISMATCH = "DEVICE_ARTIFACT_HASH_MISMATCH";
export const DEVICE_ARTIFACT_TOO_LARGE = "DEVICE_ARTIFACT_TOO_LARGE";
/** An executor produced output that does not match the message schema: a bug, not bad input. */
export const DEVICE_OUTPUT_INVALID = "DEVICE_OUTPUT_INVALID";
/** An executor failed on an item (e.g. a circuit input that violates a constraint). */
export const DEVICE_EXECUTION_FAILED = "DEVICE_EXECUTION_FAILED";
/** A rendered image (or other result artifact) could not be uploaded to the node. */
export const DEVICE_ARTIFACT_UPLOAD_FAILED = "DEVICE_ARTIFACT_UPLOAD_FAILED";

/** The agent's own codes with their HTTP status and meaning (docs/errors.md); the channel's are
 * in @dpn/wire's table. */
export const DEVICE_ERRORS = errorTable({
  DEVICE_ARTIFACT_FETCH_FAILED: {
    status: 400,
    meaning: "An artifact could not be downloaded from the node.",
  },
  DEVICE_ARTIFACT_HASH_MISMATCH: {
    status: 400,
    meaning: "A downloaded artifact does not have the SHA-256 it was asked by.",
  },
  DEVICE_ARTIFACT_UPLOAD_FAILED: {
    status: 400,
    meaning: "A result artifact (a rendered tile) could not be uploaded to the node.",
  },
  DEVICE_ARTIFACT_TOO_LARGE: {
    status: 400,
    meaning: "An artifact is larger than the device accepts.",
  },
  DEVICE_EXECUTION_FAILED: {
    status: 400,
    meaning: "An executor failed on an item (e.g. a circuit input violating a constraint).",
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
