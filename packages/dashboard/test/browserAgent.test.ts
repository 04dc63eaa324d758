import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exampleInputs, poseidonChain } from "@dpn/circuits";
import { parseDpn } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type RunningNode, startNode } from "../../node/src/server.ts";
import { type AgentEvent, BrowserAgent } from "../src/device/agent.ts";
import { localExecutor } from "../src/device/executor.ts";
import { identityFromStoredKeys, newSeeds } from "../src/device/keys.ts";

/** The in-browser device's agent, run in Node over `ws` against a real node. */
const requester = newIdentity();
let node: RunningNode;
let client: DpnClient;

beforeAll(async () => {
  node = await startNode({
    dataDir: mkdtempSync(join(tmpdir(), "dpn-agent-")),
    port: 0,
    logLevel: "silent",
    grants: { [requester.id]: "1000" },
    // The tab's benchmark falls with the machine's load; the heavy bar is set low enough that
    // the class never depends on it (the rule itself is tested in @dpn/protocol).
    params: { "devices.heavyBrowserMinCuPerSec": 0.01 },
  });
  client = new DpnClient({ url: node.url, identity: requester });
});

afterAll(async () => {
  await node.close();
});

const openSocket = (url: string) => new WebSocket(url);

describe("BrowserAgent", () => {
  // The capability challenge runs in this process: on a loaded 2-core machine it can take a while.
  it("registers as a heavy browser device, runs a hash job and a Groth16 job and is paid", {
    timeout: 150_000,
  }, async () => {
    const identity = identityFromStoredKeys(newSeeds());
    const events: AgentEvent[] = [];
    const agent = new BrowserAgent({
      nodeUrl: node.url,
      identity,
      owner: identity.id,
      geohash: "u4pr",
      deviceClass: "browser",
      cores: 2,
      memoryMiB: 1024,
      fingerprintText: "test",
      executor: localExecutor(node.url),
      cpuShare: () => 1,
      pauseReason: () => undefined,
      openSocket,
      onEvent: (e) => events.push(e),
    });
    await agent.start();
    await expect
      .poll(() => events.some((e) => e.type === "registered"), { timeout: 90_000 })
      .toBe(true);
    const registered = events.find((e) => e.type === "registered");
    // Above the (lowered) heavy bar whatever the load.
    expect(registered).toMatchObject({ deviceClass: "browser", layer: "heavy" });

    const job = await client.submitJob({
      spec: {
        type: "hash",
        items: Array.from({ length: 4 }, (_, i) => ({
          seed: i.toString(16).padStart(64, "0"),
          iterations: 500,
        })),
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "browser-agent",
    });
    const done = await client.waitForJob(job.jobId);
    expect(done.state).toBe("done");
    // The job's event stream can announce "done" before the verdicts frame reaches the tab.
    const verdictsOf = () => events.filter((e) => e.type === "verdict");
    await expect.poll(() => verdictsOf().length, { timeout: 30_000 }).toBe(job.fragments.length);
    const verdicts = verdictsOf();
    expect(verdicts.every((v) => v.type === "verdict" && v.accepted)).toBe(true);
    const afterHash = parseDpn((await client.balance(identity.id)).balance);
    expect(afterHash).toBeGreaterThan(0n);

    const inputs = exampleInputs("browser-agent", 1);
    const zkJob = await client.submitJob({
      spec: {
        type: "zk-groth16",
        artifacts: {
          wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
          zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
          verificationKey: await client.uploadArtifact(
            readFileSync(poseidonChain.artifacts.verificationKey),
          ),
        },
        constraints: poseidonChain.constraints,
        publicInputs: ["h0"],
        items: inputs.map((input) => ({ h0: input.h0, x: [...input.x] })),
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "browser-agent-groth16",
    });
    expect((await client.waitForJob(zkJob.jobId)).state).toBe("done");
    const zkVerdictsOf = () =>
      events.filter(
        (e) => e.type === "verdict" && zkJob.fragments.some((f) => f.taskId === e.taskId),
      );
    await expect
      .poll(() => zkVerdictsOf().length, { timeout: 30_000 })
      .toBe(zkJob.fragments.length);
    const zkVerdicts = zkVerdictsOf();
    expect(zkVerdicts.length).toBe(zkJob.fragments.length);
    expect(zkVerdicts.every((v) => v.type === "verdict" && v.accepted)).toBe(true);
    expect(events.some((e) => e.type === "task-done" && e.taskType === "zk-groth16")).toBe(true);
    expect(parseDpn((await client.balance(identity.id)).balance)).toBeGreaterThan(afterHash);
    const device = (await client.devices()).devices.find((d) => d.deviceId === identity.id);
    expect(device).toMatchObject({ deviceClass: "browser", geohash: "u4pr", online: true });
    agent.close();
    expect(events.at(-1)).toEqual({ type: "status", status: "stopped" });
  });

  it("takes no work while paused and resumes when the page says it may", {
    timeout: 150_000,
  }, async () => {
    const identity = identityFromStoredKeys(newSeeds());
    const events: AgentEvent[] = [];
    let reason: string | undefined = "tab hidden";
    const agent = new BrowserAgent({
      nodeUrl: node.url,
      identity,
      owner: identity.id,
      geohash: "u4pr",
      deviceClass: "browser",
      cores: 2,
      memoryMiB: 1024,
      fingerprintText: "test-paused",
      executor: localExecutor(node.url),
      cpuShare: () => 1,
      pauseReason: () => reason,
      openSocket,
      onEvent: (e) => events.push(e),
    });
    await agent.start();
    await expect
      .poll(() => events.at(-1), { timeout: 90_000 })
      .toEqual({ type: "status", status: "paused", detail: "tab hidden" });
    const job = await client.submitJob({
      spec: { type: "hash", items: [{ seed: "ab".repeat(32), iterations: 500 }] },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "browser-agent-paused",
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // The paused tab never said device.ready: the node has nowhere to send the job.
    expect(events.some((e) => e.type === "lease")).toBe(false);
    expect((await client.job(job.jobId)).itemsDone).toBe(0);

    reason = undefined;
    agent.conditionsChanged();
    expect((await client.waitForJob(job.jobId)).state).toBe("done");
    await expect.poll(() => events.some((e) => e.type === "verdict" && e.accepted)).toBe(true);
    agent.close();
  });
});
