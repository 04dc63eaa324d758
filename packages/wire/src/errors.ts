import { type CodesOf, errorTable } from "@dpn/protocol";
import { SESSION_ERRORS } from "./session/errors.ts";

/** The codes of what crosses the network: envelopes, identities, key files and messages. */
export const WIRE_ERRORS = {
  ...errorTable({
    ENVELOPE_BAD_SIGNATURE: {
      status: 401,
      meaning: "A signature of the envelope does not verify against the sender's keys.",
    },
    ENVELOPE_EXPIRED: {
      status: 400,
      meaning: "The envelope's expiry has passed; seal it again.",
    },
    ENVELOPE_MALFORMED: {
      status: 400,
      meaning: "The envelope is not JSON of the envelope shape.",
    },
    ENVELOPE_NOT_YET_VALID: {
      status: 400,
      meaning: "The envelope was issued in the future, or before the receiver started.",
    },
    ENVELOPE_REPLAYED: {
      status: 409,
      meaning:
        "This envelope's nonce was already used: a replay, or a retry that must be sealed anew.",
    },
    ENVELOPE_TOO_LARGE: {
      status: 413,
      meaning: "The envelope's payload exceeds the message size limit.",
    },
    IDENTITY_INVALID: {
      status: 401,
      meaning: "The sender's id does not match the public keys sent with it.",
    },
    KEYFILE_EXISTS: {
      status: 400,
      meaning: "A key file is already at that path; it is never overwritten.",
    },
    KEYFILE_INVALID: {
      status: 400,
      meaning: "The key file is not a DPN key file.",
    },
    KEYFILE_PERMISSIONS: {
      status: 400,
      meaning: "The key file can be read by other users; make it private (chmod 600).",
    },
    KEYFILE_UNREADABLE: {
      status: 400,
      meaning: "The key file cannot be read.",
    },
    MESSAGE_INVALID: {
      status: 400,
      meaning: "A request or message does not match its schema; details name the field.",
    },
    MESSAGE_UNEXPECTED: {
      status: 400,
      meaning: "The message is of another kind than the endpoint or state takes.",
    },
    NODE_OVERLOADED: {
      status: 503,
      meaning:
        "The receiver is at a limit (open event streams, replay-guard entries); retry later or poll.",
    },
  }),
  /** The device side of the channel (session/). */
  ...SESSION_ERRORS,
};

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof WIRE_ERRORS> {}
}
