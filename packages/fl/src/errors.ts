import { type CodesOf, errorTable } from "@dpn/protocol";

/**
 * Stable error codes of the federated-learning core. Each is thrown as a DpnError (@dpn/protocol)
 * with a message that says what happened and a hint that says what to do; programs match on the
 * code. Privacy-budget refusals keep the protocol's own code, DP_BUDGET_EXCEEDED.
 */

/** A model spec is not one of the supported shapes, or breaks a limit (MAX_MODEL_PARAMETERS…). */
export const FL_INVALID_MODEL_SPEC = "FL_INVALID_MODEL_SPEC";
/** Local-training hyper-parameters are missing, of the wrong type or out of bounds. */
export const FL_INVALID_TRAIN_CONFIG = "FL_INVALID_TRAIN_CONFIG";
/** A data set's arrays do not fit its declared shape, or labels are outside the classes. */
export const FL_INVALID_DATASET = "FL_INVALID_DATASET";
/** A weight vector or update does not have the model's parameter count. */
export const FL_UPDATE_SHAPE_MISMATCH = "FL_UPDATE_SHAPE_MISMATCH";
/** An update holds NaN or an infinity. */
export const FL_UPDATE_NOT_FINITE = "FL_UPDATE_NOT_FINITE";
/** An update's L2 norm exceeds the bound and the policy is to reject rather than clip. */
export const FL_UPDATE_NORM_EXCEEDED = "FL_UPDATE_NORM_EXCEEDED";
/** An encoded update is larger than MAX_UPDATE_BYTES. */
export const FL_UPDATE_TOO_LARGE = "FL_UPDATE_TOO_LARGE";
/** An encoded update is truncated, has an unknown format, or contradicts its own header. */
export const FL_UPDATE_MALFORMED = "FL_UPDATE_MALFORMED";
/** Compression parameters (k, fraction, rounding) are out of bounds. */
export const FL_INVALID_COMPRESSION = "FL_INVALID_COMPRESSION";
/** Aggregation was asked for with no updates, bad weights or an impossible trim. */
export const FL_INVALID_AGGREGATION = "FL_INVALID_AGGREGATION";
/** Differential-privacy options (clip norm, ε, δ, feature bounds) are out of bounds. */
export const FL_INVALID_PRIVACY = "FL_INVALID_PRIVACY";
/** A simulation's configuration is inconsistent (no devices, a sample larger than the fleet…). */
export const FL_INVALID_SIMULATION = "FL_INVALID_SIMULATION";
/** A data file that ships in an npm package could not be read. */
export const FL_DATA_UNAVAILABLE = "FL_DATA_UNAVAILABLE";
/** Local training failed in a worker thread. */
export const FL_TRAINING_FAILED = "FL_TRAINING_FAILED";

/** The codes above with their HTTP status and meaning (docs/errors.md). */
export const FL_ERRORS = errorTable({
  FL_DATA_UNAVAILABLE: {
    status: 400,
    meaning: "A data file that ships in an npm package could not be read.",
  },
  FL_INVALID_AGGREGATION: {
    status: 400,
    meaning: "Aggregation was asked for with no updates, bad weights or an impossible trim.",
  },
  FL_INVALID_COMPRESSION: {
    status: 400,
    meaning: "Compression parameters are out of bounds.",
  },
  FL_INVALID_DATASET: {
    status: 400,
    meaning: "A data set's arrays do not fit its shape, or labels are outside the classes.",
  },
  FL_INVALID_MODEL_SPEC: {
    status: 400,
    meaning: "A model spec is not a supported shape, or breaks a limit.",
  },
  FL_INVALID_PRIVACY: {
    status: 400,
    meaning: "Differential-privacy options of training are out of bounds.",
  },
  FL_INVALID_SIMULATION: {
    status: 400,
    meaning: "A federated simulation's configuration is inconsistent.",
  },
  FL_INVALID_TRAIN_CONFIG: {
    status: 400,
    meaning: "Local-training hyper-parameters are missing, mistyped or out of bounds.",
  },
  FL_TRAINING_FAILED: {
    status: 400,
    meaning: "Local training failed in a worker thread.",
  },
  FL_UPDATE_MALFORMED: {
    status: 400,
    meaning: "An encoded update is truncated, of an unknown format, or contradicts its header.",
  },
  FL_UPDATE_NORM_EXCEEDED: {
    status: 400,
    meaning: "An update's L2 norm exceeds the bound and the policy rejects rather than clips.",
  },
  FL_UPDATE_NOT_FINITE: {
    status: 400,
    meaning: "An update holds NaN or an infinity.",
  },
  FL_UPDATE_SHAPE_MISMATCH: {
    status: 400,
    meaning: "An update does not have the model's parameter count.",
  },
  FL_UPDATE_TOO_LARGE: {
    status: 400,
    meaning: "An encoded update is larger than MAX_UPDATE_BYTES.",
  },
});

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof FL_ERRORS> {}
}
