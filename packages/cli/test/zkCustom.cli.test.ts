import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exampleInputs, poseidonChain } from "@dpn/circuits";
import { type RunningNode, startNode } from "@dpn/node";
import { costCu } from "@dpn/protocol";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDpn } from "./processes.ts";

/**
 * `dpn job submit --type zk-groth16` with a circuit given as files: the CLI budgets from the
 * count in the zkey, --constraints is only checked by the node, and items one proof could
 * satisfy need --allow-unbound-items.
 */
const requester = newIdentity();
let node: RunningNode;
let dir: string;
let keys: string;

function submit(inputs: unknown[], name: string, ...extra: string[]) {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(inputs));
  return runDpn([
    "job",
    "submit",
    "--type",
    "zk-groth16",
    "--node",
    node.url,
    "--keys",
    keys,
    "--wasm",
    poseidonChain.artifacts.wasm,
    "--zkey",
    poseidonChain.artifacts.zkey,
    "--vkey",
    poseidonChain.artifacts.verificationKey,
    "--inputs",
    file,
    "--public-inputs",
    "h0",
    "--json",
    ...extra,
  ]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dpn-cli-zk-"));
  keys = join(dir, "requester.json");
  writeKeyFile(keys, requester);
  node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    grants: { [requester.id]: "100" },
  });
});

afterAll(async () => {
  await node.close();
});

describe("dpn job submit with a circuit's files", () => {
  it("prices from the zkey, passes a wrong --constraints on to be refused, and flags unbound items", async () => {
    const items = exampleInputs("cli-zk", 2).map((i) => ({ h0: i.h0, x: [...i.x] }));
    const [priced, wrong, unbound, allowed] = await Promise.all([
      submit(items, "priced"),
      submit(items, "wrong", "--constraints", "100"),
      submit([items[0], items[0]], "unbound"),
      submit([items[0], items[0]], "allowed", "--allow-unbound-items"),
    ]);
    expect(priced.code).toBe(0);
    const view = JSON.parse(priced.out) as { cu: number; state: string };
    expect(view.cu).toBeCloseTo(
      2 * costCu({ type: "zk-groth16", constraints: poseidonChain.constraints, proofs: 1 }),
      9,
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain("ZK_CONSTRAINTS_MISMATCH");
    expect(wrong.err).toContain(`${poseidonChain.constraints}`);
    expect(unbound.err).toContain("ZK_STATEMENT_UNBOUND");
    expect(allowed.code).toBe(0);
    expect((JSON.parse(allowed.out) as { state: string }).state).toBe("open");
  }, 120_000);
});
