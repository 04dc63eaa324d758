import fc from "fast-check";

// Property tests are deterministic: one seed for the whole run, overridable to explore more
// (FC_SEED=123 npm test). A failure prints the seed and path needed to replay it.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20_250_201), numRuns: 100 });
