import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { DpnError } from "./errors.ts";

/**
 * The assignment seed (docs/protocol.md §Assignment seed, docs/adr/0018-assignment-seed.md): the
 * seed every draw of a job's assignment comes from, made of two inputs the node cannot choose
 * once it has seen the job:
 *
 *   seed = hex(SHA-256(utf8("dpn/assignment/v1") ‖ submissionDigest ‖ epochRoot))
 *
 * - submissionDigest: the SHA-256 of the bytes the requester signed (the job.submit envelope,
 *   @dpn/wire envelopeDigest), 32 bytes. The requester's signatures cover it, so the node cannot
 *   change it without the requester's keys.
 * - epochRoot: the Merkle root of the ledger's last epoch sealed before the node accepted the
 *   job, 32 bytes; GENESIS_EPOCH_ROOT while none is sealed. It was fixed before the job arrived.
 *
 * Both fields have a fixed length after a fixed tag, so no two input pairs share the hashed bytes,
 * and the tag keeps this hash apart from every other SHA-256 the protocol takes.
 */
export const ASSIGNMENT_SEED_DOMAIN = "dpn/assignment/v1";

/**
 * The epoch root used while the ledger has sealed no epoch: SHA-256 of "dpn/epoch/genesis/v1",
 * 0x-prefixed like a sealed root. A constant anyone can recompute, as epoch number 0; sealed
 * epochs are numbered from 1.
 */
export const GENESIS_EPOCH = 0;
export const GENESIS_EPOCH_ROOT = `0x${bytesToHex(sha256(utf8ToBytes("dpn/epoch/genesis/v1")))}`;

export interface AssignmentSeedInputs {
  /** 64 lowercase hex digits: SHA-256 of the signed submission's bytes. */
  readonly submissionDigest: string;
  /** 0x and 64 lowercase hex digits: the sealed epoch's Merkle root (or GENESIS_EPOCH_ROOT). */
  readonly epochRoot: string;
}

const DIGEST = /^[0-9a-f]{64}$/;
const ROOT = /^0x[0-9a-f]{64}$/;

/** The job's assignment seed, 64 lowercase hex digits. */
export function assignmentSeed(inputs: AssignmentSeedInputs): string {
  if (typeof inputs.submissionDigest !== "string" || !DIGEST.test(inputs.submissionDigest)) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      "submissionDigest must be 64 lowercase hex digits (a SHA-256).",
      { hint: "Take it from the signed submission with envelopeDigest." },
    );
  }
  if (typeof inputs.epochRoot !== "string" || !ROOT.test(inputs.epochRoot)) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      "epochRoot must be 0x and 64 lowercase hex digits (a sealed epoch's Merkle root).",
      { hint: "Use the sealed epoch's root, or GENESIS_EPOCH_ROOT when none is sealed." },
    );
  }
  return bytesToHex(
    sha256(
      concatBytes(
        utf8ToBytes(ASSIGNMENT_SEED_DOMAIN),
        hexToBytes(inputs.submissionDigest),
        hexToBytes(inputs.epochRoot.slice(2)),
      ),
    ),
  );
}
