pragma circom 2.1.0;

include "bitify.circom";

// A circuit DPN does not ship, for the zk-groth16 tests: "I know a, b with 2 <= a, b < 2^16 + 2
// and a * b = c" for the public c. The range checks (circomlib's Num2Bits) make it more than one
// constraint and keep a = 1, b = c out.
template Factor(bits) {
    signal input a;
    signal input b;
    signal input c;
    component aBits = Num2Bits(bits);
    component bBits = Num2Bits(bits);
    aBits.in <== a - 2;
    bBits.in <== b - 2;
    a * b === c;
}

component main {public [c]} = Factor(16);
