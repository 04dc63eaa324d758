pragma circom 2.1.0;

// A Poseidon hash chain standing in for a rollup batch.
//
// Statement proved: "I know private values x[0..STEPS-1] such that, starting from the public
// h0 and applying h[i+1] = Poseidon(h[i], x[i]) STEPS times, the chain ends at the public out."
// Each x[i] plays the role of one transaction folded into the batch state; h0 is the previous
// state root and out the new one. Public signals, in snarkjs order: [out, h0].

include "circomlib/circuits/poseidon.circom";

template PoseidonChain(STEPS) {
    signal input h0;
    signal input x[STEPS];
    signal output out;

    signal h[STEPS + 1];
    component hashers[STEPS];

    h[0] <== h0;
    for (var i = 0; i < STEPS; i++) {
        hashers[i] = Poseidon(2);
        hashers[i].inputs[0] <== h[i];
        hashers[i].inputs[1] <== x[i];
        h[i + 1] <== hashers[i].out;
    }
    out <== h[STEPS];
}

// 16 steps of Poseidon(2) (t = 3) give 3,840 R1CS constraints with circom --O2 (240 per step):
// inside 2^12, so a 2^12 powers of tau suffices for Groth16.
component main {public [h0]} = PoseidonChain(16);
