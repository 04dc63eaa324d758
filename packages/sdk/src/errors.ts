import { errorTable } from "@dpn/protocol";

/** The client's own codes; everything else it throws carries the node's code. */
export const SDK_ERRORS = errorTable({
  CLIENT_NO_IDENTITY: {
    status: 400,
    meaning: "The request must be signed and the client has no identity.",
  },
  CLIENT_UNREACHABLE: {
    status: 400,
    meaning: "The node's URL cannot be reached.",
  },
});
