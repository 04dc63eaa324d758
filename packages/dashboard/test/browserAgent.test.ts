import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type RunningNode, startNode } from "../../node/src/server.ts";
import { type AgentEvent, BrowserAgent } from "../src/device/agent.ts";
import { identityFromSeeds, newSeeds } from "../src/device/envelope.ts";

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
  });
  client = new DpnClient({ url: node.url, identity: requester });
});

afterAll(async () => {
  await node.close();
});

describe("BrowserAgent", () => {
  // The capability challenge runs in this process: on a loaded 2-core machine it can take a while.
  it("registers as a browser device, runs a hash job and is paid for it", {
    timeout: 150_000,
  }, async () => {
    const identity = await identityFromSeeds(newSeeds());
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
      cpuShare: () => 1,
      mayWork: () => true,
      openSocket: (url, handlers) => {
        const socket = new WebSocket(url);
        socket.on("open", handlers.onOpen);
        socket.on("error", handlers.onError);
        socket.on("close", (code, reason) => handlers.onClose(code, reason.toString()));
        socket.on("message", (data) => handlers.onMessage(data.toString()));
        return socket;
      },
      onEvent: (e) => events.push(e),
    });
    await agent.start();
    await expect
      .poll(() => events.some((e) => e.type === "registered"), { timeout: 90_000 })
      .toBe(true);
    const registered = events.find((e) => e.type === "registered");
    expect(registered).toMatchObject({ deviceClass: "browser", layer: "light" });

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
    const verdicts = events.filter((e) => e.type === "verdict");
    expect(verdicts.length).toBe(job.fragments.length);
    expect(verdicts.every((v) => v.type === "verdict" && v.accepted)).toBe(true);
    expect(Number((await client.balance(identity.id)).balance)).toBeGreaterThan(0);
    const device = (await client.devices()).devices.find((d) => d.deviceId === identity.id);
    expect(device).toMatchObject({ deviceClass: "browser", geohash: "u4pr", online: true });
    agent.close();
    expect(events.at(-1)).toEqual({ type: "status", status: "stopped" });
  });
});
