import {
  identityFromSeeds,
  open,
  publicIdentity,
  seal,
  signHybrid,
  verifyEd25519,
  verifyMldsa44,
} from "@dpn/wire";
import { ed25519 } from "@noble/curves/ed25519.js";
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { type Benchmark, type BenchRow, median } from "./harness.ts";

/**
 * How many post-quantum signatures per second does one core make and check? The whitepaper
 * (§9.1) targets "signature speed ≥ 1000 TPS" for lattice signatures; DPN uses ML-DSA-44
 * (@noble/post-quantum, pure JavaScript) next to Ed25519 (@noble/curves, pure JavaScript too, so
 * that the same code runs in a browser) as the peer.
 * `seal` and `open` are what a frame costs end to end (both signatures, the signed bytes, base64);
 * `open` is measured for one sender (a device reading its node) and for many senders in turn (a
 * node reading its devices), because a verifier may cache per-key work.
 */
/** Senders that take turns in the many-senders row: more than a verifier would keep warm. */
const SENDERS = 1_000;
function perSecond(durationMs: number, fn: () => void): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

const bench: Benchmark = async ({ quick }) => {
  const repeats = quick ? 1 : 5;
  const durationMs = quick ? 300 : 1000;
  const identity = identityFromSeeds(new Uint8Array(32).fill(7), new Uint8Array(32).fill(9));
  const message = new TextEncoder().encode("dpn/v1\ndevice.results\n".padEnd(400, "x"));
  const signature = signHybrid(identity, message);
  const measure = (operation: string, fn: () => void): number => {
    const rate = median(Array.from({ length: repeats }, () => perSecond(durationMs, fn)));
    rows.push({ operation, "ops/s/core (median)": Math.round(rate), runs: repeats });
    return rate;
  };
  const rows: BenchRow[] = [];
  const edSign = measure("Ed25519 sign (@noble/curves)", () =>
    ed25519.sign(message, identity.ed25519Seed),
  );
  const edVerify = measure("Ed25519 verify (@noble/curves, key table cached)", () =>
    verifyEd25519(identity.ed25519PublicKey, message, signature.ed25519),
  );
  const pqSign = measure("ML-DSA-44 sign (@noble/post-quantum)", () =>
    ml_dsa44.sign(message, identity.mldsa44SecretKey),
  );
  const pqVerify = measure("ML-DSA-44 verify (@noble/post-quantum)", () =>
    verifyMldsa44(identity.mldsa44PublicKey, message, signature.mldsa44),
  );
  measure("hybrid envelope verify (both)", () => {
    verifyEd25519(identity.ed25519PublicKey, message, signature.ed25519);
    verifyMldsa44(identity.mldsa44PublicKey, message, signature.mldsa44);
  });
  const nowMs = Date.now();
  const body = { results: [{ taskId: "t-1", outputs: ["x".repeat(300)], elapsedMs: 1 }] };
  const sealRate = measure("seal (hybrid)", () =>
    seal(identity, "device.results", body, { nowMs }),
  );
  const envelope = seal(identity, "device.results", body, { nowMs });
  const sender = publicIdentity(identity);
  const openRate = measure("open (hybrid, one sender)", () => open(envelope, sender, { nowMs }));
  const senders = Array.from({ length: quick ? 300 : SENDERS }, (_, i) => {
    const seed = new Uint8Array(32);
    new DataView(seed.buffer).setUint32(0, i + 1);
    const who = identityFromSeeds(seed, seed);
    return { envelope: seal(who, "device.results", body, { nowMs }), sender: publicIdentity(who) };
  });
  let turn = 0;
  measure(`open (hybrid, ${senders.length} senders in turn)`, () => {
    const next = senders[turn++ % senders.length];
    if (next !== undefined) open(next.envelope, next.sender, { nowMs });
  });
  return {
    name: "signatures",
    question: "post-quantum signatures per second per core (whitepaper §9.1: ≥ 1000 TPS)",
    rows,
    notes: [
      `ML-DSA-44 verify is ${(edVerify / pqVerify).toFixed(1)}× slower than Ed25519 verify; signing ${(edSign / pqSign).toFixed(1)}× slower`,
      `a frame: seal ${Math.round(sealRate)}/s, open ${Math.round(openRate)}/s per core`,
      `§9.1's 1000/s on 2 cores: verify ${pqVerify * 2 >= 1000 ? "reached" : "not reached"} (${Math.round(pqVerify * 2)}/s), sign ${pqSign * 2 >= 1000 ? "reached" : "not reached"} (${Math.round(pqSign * 2)}/s)`,
    ],
  };
};

export default bench;
