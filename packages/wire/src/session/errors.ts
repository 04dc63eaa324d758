import { errorTable } from "@dpn/protocol";

/**
 * Stable error codes of the device side of the channel. Each names what went wrong from the
 * device operator's point of view; the agents log the code, and `@dpn/device` re-exports them.
 * The table is part of WIRE_ERRORS (docs/errors.md, under @dpn/wire).
 */
export const SESSION_ERRORS = errorTable({
  DEVICE_CHALLENGE_TOO_LARGE: {
    status: 400,
    meaning: "A benchmark challenge asks for more work than the device accepts.",
  },
  DEVICE_FRAME_FLOOD: {
    status: 400,
    meaning:
      "The node sent more frames within their lifetime than a device remembers; they are refused.",
  },
  DEVICE_FRAME_INVALID: {
    status: 400,
    meaning:
      "A frame from the node is not an envelope of a known node message, or came out of turn.",
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
    meaning: "The device's options are invalid.",
  },
  DEVICE_STOPPING: {
    status: 400,
    meaning: "The device stopped while the task ran; the node reassigns it when its lease ends.",
  },
});

export const DEVICE_OPTIONS_INVALID = "DEVICE_OPTIONS_INVALID";
/** The node's `/v1/node` endpoint could not be reached or answered with an error. */
export const DEVICE_NODE_UNREACHABLE = "DEVICE_NODE_UNREACHABLE";
/** The node published public keys that do not match its id, or a malformed identity. */
export const DEVICE_NODE_IDENTITY_INVALID = "DEVICE_NODE_IDENTITY_INVALID";
/** The node's id is not the pinned one (option `nodeId`, or the first one seen this session). */
export const DEVICE_NODE_ID_MISMATCH = "DEVICE_NODE_ID_MISMATCH";
/** A frame from the node is not an envelope of a known node message kind, or came out of turn. */
export const DEVICE_FRAME_INVALID = "DEVICE_FRAME_INVALID";
/** The node sent more frames within their lifetime than the device remembers (fail closed). */
export const DEVICE_FRAME_FLOOD = "DEVICE_FRAME_FLOOD";
/** A challenge asks for more work than the session's bound (maxChallengeIterations). */
export const DEVICE_CHALLENGE_TOO_LARGE = "DEVICE_CHALLENGE_TOO_LARGE";
/** A lease expired before its task finished; the work is abandoned. */
export const DEVICE_LEASE_EXPIRED = "DEVICE_LEASE_EXPIRED";
/** The device stopped while the task ran. */
export const DEVICE_STOPPING = "DEVICE_STOPPING";
/** A message (in practice one task's results) exceeds the envelope payload limit. */
export const DEVICE_MESSAGE_TOO_LARGE = "DEVICE_MESSAGE_TOO_LARGE";
