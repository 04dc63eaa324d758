import { ANALYTICS_ERRORS } from "@dpn/analytics";
import { FL_ERRORS } from "@dpn/fl";
import { LEDGER_ERRORS } from "@dpn/ledger";
import { type CodesOf, type ErrorEntry, errorTable, PROTOCOL_ERRORS } from "@dpn/protocol";
import { WIRE_ERRORS } from "@dpn/wire";

/**
 * The node's own codes: the API, jobs, artifacts, the device channel, oracles, and the codes a
 * task or job fails with (a view's `failure`).
 */
export const NODE_ERRORS = errorTable({
  ZK_VKEY_MISMATCH: {
    status: 400,
    meaning:
      "A zk-groth16 job's verification key is not the one its zkey exports; refused at submission, before any device works or is judged.",
  },
  ZK_ZKEY_INVALID: {
    status: 400,
    meaning:
      "A zk-groth16 job's zkey is not a snarkjs Groth16 proving key whose circuit size can be read (its constraint count prices the job); refused at submission.",
  },
  ZK_CONSTRAINTS_MISMATCH: {
    status: 400,
    meaning:
      "A zk-groth16 job declares another constraint count than its zkey's; the zkey's (in details) prices the job, so declare it or leave constraints out.",
  },
  ZK_PUBLIC_SIGNALS_MISMATCH: {
    status: 400,
    meaning:
      "A zk-groth16 job's public inputs or expected signals fit no proof of its circuit (beyond its nPublic, of another length, or contradicting the item's inputs).",
  },
  ZK_STATEMENT_UNBOUND: {
    status: 400,
    meaning:
      "Two or more items of a zk-groth16 job have the same checked statement, so one proof would be accepted for each; refused unless the spec sets allowUnboundItems: true.",
  },
  ACCOUNT_RATE_LIMITED: {
    status: 429,
    meaning:
      "The signing account sent more requests than ACCOUNT_REQUEST_BURST, then ACCOUNT_REQUESTS_PER_SEC; retry after the retry-after header.",
  },
  ANALYTICS_DIGEST_MISMATCH: {
    status: 400,
    meaning:
      "A device's analytics partial does not hash to the digest it reported (a task failure).",
  },
  ARTIFACT_FORBIDDEN: {
    status: 403,
    meaning:
      "A job names an artifact its requester neither uploaded nor may read as published (stored or not).",
  },
  ARTIFACT_HASH_MISMATCH: {
    status: 400,
    meaning: "The signed SHA-256 or size does not match the uploaded bytes.",
  },
  ARTIFACT_NOT_FOUND: {
    status: 404,
    meaning: "No artifact with this SHA-256 is stored on the node.",
  },
  ARTIFACT_TOO_LARGE: {
    status: 413,
    meaning: "The artifact is larger than MAX_ARTIFACT_BYTES.",
  },
  BUDGET_EXHAUSTED: {
    status: 400,
    meaning: "The job's budget cannot pay the next fragment at the rate in force (a task failure).",
  },
  DEVICE_CHALLENGE_IMPLAUSIBLE: {
    status: 400,
    meaning: "A device reported a benchmark time longer than the node observed.",
  },
  DEVICE_CHALLENGE_TIMEOUT: {
    status: 400,
    meaning: "A device took too long to answer the capability benchmark.",
  },
  DEVICE_CHALLENGE_WRONG: {
    status: 400,
    meaning: "A device's benchmark answer is wrong, or for another challenge.",
  },
  DEVICE_CHANNEL_ADDRESS_LIMIT: {
    status: 429,
    meaning:
      "The address has too many device sockets open or registering, or opens them too fast (MAX_SOCKETS_PER_ADDRESS, MAX_HANDSHAKES_PER_ADDRESS, UPGRADES_PER_SEC).",
  },
  DEVICE_CHANNEL_BUSY: {
    status: 503,
    meaning: "The node has MAX_DEVICE_SOCKETS device sockets open; retry later.",
  },
  DEVICE_FRAME_BUDGET: {
    status: 429,
    meaning:
      "A device socket sent frames faster than FRAMES_PER_SEC, or too many refused frames; the node closed it (close code 4008).",
  },
  DEVICE_HANDSHAKE_TIMEOUT: {
    status: 408,
    meaning:
      "A device socket did not complete registration within HANDSHAKE_TIMEOUT_MS; the node closed it (close code 4009).",
  },
  DEVICE_QUARANTINED: {
    status: 403,
    meaning:
      "The device's results were refused too often (quarantine.strikes within quarantine.windowMs): it gets no leases until its quarantine ends.",
  },
  DEVICE_TOO_MANY_ON_HARDWARE: {
    status: 400,
    meaning:
      "MAX_DEVICES_PER_FINGERPRINT devices are already connected on this hardware fingerprint (anti-Sybil).",
  },
  EMISSION_POOL_EXHAUSTED: {
    status: 409,
    meaning:
      "A result was accepted and paid for, but the emission pool held less than its reward: not minted, not owed. The pool refills from burns each epoch.",
  },
  EPOCH_NOT_SEALED: {
    status: 404,
    meaning: "The ledger has sealed no epoch with this number (yet).",
  },
  FRAGMENT_UNFINISHED: {
    status: 400,
    meaning: "A fragment of the job ended without an accepted result (a task failure).",
  },
  HOLD_EXPIRED: {
    status: 400,
    meaning: "A task's payment hold expired before its result was settled (a task failure).",
  },
  HTTP_FASTIFY: {
    status: 400,
    meaning:
      "HTTP_<Fastify code>: refused before any handler (bad JSON 400, body too large 413, content type 415, rate limit 429).",
  },
  HTTP_NOT_FOUND: {
    status: 404,
    meaning: "No route has this method and path; see /openapi.json.",
  },
  JOB_BUDGET_TOO_LOW: {
    status: 400,
    meaning: "The job's budget is below the node's quote for it.",
  },
  JOB_CLIENT_REF_REUSED: {
    status: 409,
    meaning: "The clientRef was already used for a different job.",
  },
  JOB_DEADLINE_PASSED: {
    status: 400,
    meaning: "The job's deadline is in the past.",
  },
  JOB_DEADLINE_TOO_FAR: {
    status: 400,
    meaning: "A job's deadline is further away than the governed requests.maxJobDeadlineMs.",
  },
  JOB_VERIFY_TOO_COSTLY: {
    status: 400,
    meaning:
      "An item alone would cost more to verify than MAX_VERIFY_CU_PER_TASK; split it into smaller items.",
  },
  JOB_TOO_LARGE: {
    status: 400,
    meaning: "The job has more tasks than its kind accepts in one job (split it).",
  },
  JOB_INVALID: {
    status: 400,
    meaning: "The job spec is inconsistent in a way its schema cannot say (per task kind).",
  },
  JOB_KIND_UNAVAILABLE: {
    status: 400,
    meaning: "This node does not serve jobs of this type.",
  },
  JOB_NOT_FOUND: {
    status: 404,
    meaning: "There is no job with this id.",
  },
  JOB_NOT_YOURS: {
    status: 403,
    meaning: "Only the job's requester may do this.",
  },
  TRANSFER_TOO_SMALL: {
    status: 400,
    meaning: "A transfer moves less than the governed requests.minTransferUnits.",
  },
  MARKET_SLIPPAGE_TOO_WIDE: {
    status: 400,
    meaning: "A swap's price-impact guard is wider than the node's governed amm.maxSlippageBps.",
  },
  NODE_INTERNAL: {
    status: 500,
    meaning: "The node failed to handle the request; the log has the cause.",
  },
  NODE_RESPONSE_INVALID: {
    status: 500,
    meaning:
      "An answer of the node does not match its published schema: a bug (checked in tests and development).",
  },
  NODE_STORE_INVALID: {
    status: 400,
    meaning: "The node store's location or options are unusable.",
  },
  NODE_STORE_NOT_DURABLE: {
    status: 500,
    meaning: "The store did not accept the durability settings the node requires.",
  },
  ORACLE_FEED_FAILED: {
    status: 400,
    meaning:
      "An oracle feed could not read its source (the AMM pool has no liquidity; no DPN/USD price to convert a clearing price with).",
  },
  ORACLE_FEED_HTTP_STATUS: {
    status: 502,
    meaning:
      "An HTTP JSON feed answered with a status other than 2xx; the round goes on without it.",
  },
  ORACLE_FEED_NOT_JSON: {
    status: 502,
    meaning: "An HTTP JSON feed's answer is not a JSON document; the round goes on without it.",
  },
  ORACLE_FEED_NO_CLEARING: {
    status: 409,
    meaning:
      "The clearing feed found no task paid within its window (no trade, no price); the round goes on without it.",
  },
  ORACLE_FEED_NO_VALUE: {
    status: 502,
    meaning:
      "An HTTP JSON feed's document has no positive number at the configured path; the round goes on without it.",
  },
  ORACLE_FEED_TIMEOUT: {
    status: 504,
    meaning: "An HTTP JSON feed did not answer within its timeout; the round goes on without it.",
  },
  ORACLE_FEED_TOO_LARGE: {
    status: 502,
    meaning:
      "An HTTP JSON feed's document is larger than MAX_FEED_BYTES; the round goes on without it.",
  },
  ORACLE_FEED_UNREACHABLE: {
    status: 502,
    meaning: "An HTTP JSON feed could not be connected to; the round goes on without it.",
  },
  ORACLE_FEEDS_FILE_INVALID: {
    status: 400,
    meaning:
      "The feeds file (dpn node --feeds) is not JSON of the documented shape; the message names the first bad field.",
  },
  ORACLE_FEED_INVALID: {
    status: 400,
    meaning: "An oracle feed's configuration is invalid.",
  },
  ORACLE_FEED_UNKNOWN: {
    status: 400,
    meaning: "An oracle feed's kind is unknown.",
  },
  ORACLE_NO_PRICE: {
    status: 400,
    meaning: "The oracle has never had enough live feeds, so there is no price yet.",
  },
  PROOF_INVALID: {
    status: 400,
    meaning: "A Groth16 proof does not verify against the job's verification key (a task failure).",
  },
  PROOF_DUPLICATE: {
    status: 400,
    meaning:
      "A proof is byte for byte one already returned for another item of the same job (a task failure).",
  },
  PROOF_WRONG_STATEMENT: {
    status: 400,
    meaning:
      "A proof verifies but proves other public signals than the job asked for (a task failure).",
  },
  QUORUM_INCONCLUSIVE: {
    status: 400,
    meaning: "A replicated task's results never reached a quorum (a task failure).",
  },
  QUORUM_OUTVOTED: {
    status: 400,
    meaning: "A replica's result lost the quorum vote (a task failure).",
  },
  QUORUM_PENDING: {
    status: 400,
    meaning: "A replica's result waits for the other replicas (a task failure).",
  },
  RATE_LIMITED: {
    status: 429,
    meaning:
      "The address sent more than HTTP_REQUESTS_PER_MINUTE requests in a minute; retry after the retry-after header.",
  },
  READ_FORBIDDEN: {
    status: 403,
    meaning:
      "A signed read of a job, result, event stream or private artifact by someone it does not belong to.",
  },
  READ_PATH_MISMATCH: {
    status: 401,
    meaning: "A read token signs another method or path than the request it came with.",
  },
  READ_TOKEN_INVALID: {
    status: 401,
    meaning:
      "A read token is not base64url JSON { envelope, keys } of a read, or lives longer than MAX_READ_TTL_MS.",
  },
  READ_UNSIGNED: {
    status: 401,
    meaning:
      "A read of a job, result, event stream or private artifact came without a signed read token.",
  },
  RESULT_MALFORMED: {
    status: 400,
    meaning: "A device's result does not have the kind's output shape (a task failure).",
  },
  RESULT_ARTIFACT_MISSING: {
    status: 400,
    meaning: "A result names an artifact (a rendered tile) that was not uploaded.",
  },
  RESULT_WRONG: {
    status: 400,
    meaning: "A device's result differs from the node's recomputation (a task failure).",
  },
  RESULT_WRONG_COUNT: {
    status: 400,
    meaning:
      "A device returned another number of outputs than the task has items (a task failure).",
  },
  SPOT_CHECK_FAILED: {
    status: 400,
    meaning: "A federated update failed its re-execution on another device (a task failure).",
  },
  SPOT_CHECK_PENDING: {
    status: 400,
    meaning: "A federated update waits for its spot check (a task failure).",
  },
  TASK_ATTEMPTS_EXHAUSTED: {
    status: 400,
    meaning: "A task had MAX_TASK_ATTEMPTS leases without a result (a task failure).",
  },
  TASK_FAILED: {
    status: 400,
    meaning: "A task of the job failed, and so did the job (a task failure).",
  },
  TASK_NOT_LEASED: {
    status: 400,
    meaning:
      "A result arrived for a task no longer leased to that device (decided meanwhile) (a task failure).",
  },
  VERIFY_FAILED: {
    status: 500,
    meaning:
      "The verifier failed on a result (its process crashed); the task is offered again, the device is not penalised (a task failure).",
  },
  VERIFY_TIMEOUT: {
    status: 503,
    meaning:
      "A verification ran past the verifier's time budget and was stopped; the task is offered again, the device is not penalised (a task failure).",
  },
});

/**
 * Every code a request to the node can meet, from the packages it runs on: what the HTTP API's
 * status and docs link are looked up in (api/httpErrors.ts).
 */
export const NODE_REGISTRY = {
  ...PROTOCOL_ERRORS,
  ...WIRE_ERRORS,
  ...LEDGER_ERRORS,
  ...ANALYTICS_ERRORS,
  ...FL_ERRORS,
  ...NODE_ERRORS,
} as const;
export type NodeErrorCode = keyof typeof NODE_REGISTRY;

/** The entry of a code, if it is registered (a code is data here: errors cross packages). */
export function errorEntry(code: string): ErrorEntry | undefined {
  return Object.hasOwn(NODE_REGISTRY, code) ? NODE_REGISTRY[code as NodeErrorCode] : undefined;
}

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof NODE_ERRORS> {}
}
