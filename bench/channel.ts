import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newIdentity, seal } from "@dpn/wire";
import type { ChannelLimits } from "../packages/node/src/channel/admission.ts";
import { startNode } from "../packages/node/src/server.ts";
import { ProtocolDevice } from "../packages/node/test/protocolDevice.ts";
import { type BenchReport, type BenchRow, median, repeat } from "./harness.ts";

/**
 * What a flood of the device channel costs other clients: the median latency of GET /v1/node
 * during the flood over its idle latency, with the channel's budgets in force and with them
 * lifted (every budget effectively infinite) in the same run, for three floods from one
 * registered device: garbage text, well-signed frames of a kind the node refuses (each answered
 * with a signed node.error when budgets are lifted), and valid heartbeats. "Flood lasted" is the
 * time from the first frame sent to the socket's close (budgets on) or to the node's answer to a
 * marker frame sent after the flood (budgets lifted: every frame was handled); the probe's
 * latencies are those of that span.
 */
const UNLIMITED: Partial<ChannelLimits> = {
  frameBurst: 1e9,
  framesPerSec: 1e9,
  errorBurst: 1e9,
  errorsPerSec: 1e9,
};

type Flood = "garbage" | "refused" | "heartbeats";

async function probe(url: string): Promise<number> {
  const started = performance.now();
  await (await fetch(`${url}/v1/node`)).arrayBuffer();
  return performance.now() - started;
}

async function run(flood: Flood, limits: Partial<ChannelLimits>, frames: number) {
  const node = await startNode({
    store: { kind: "sqlite" },
    dataDir: mkdtempSync(join(tmpdir(), "dpn-bench-channel-")),
    logLevel: "silent",
    params: { "burning.coldStorageShare": 0 },
    channelLimits: limits,
  });
  const attacker = new ProtocolDevice({ url: node.url, owner: newIdentity().id });
  try {
    await attacker.connect();
    const texts = Array.from({ length: frames }, (_, i) =>
      flood === "garbage"
        ? `garbage ${i}`
        : JSON.stringify(
            flood === "refused"
              ? seal(attacker.identity, "device.bogus", {}, { nowMs: Date.now() })
              : seal(
                  attacker.identity,
                  "device.heartbeat",
                  { activeTaskIds: [] },
                  { nowMs: Date.now() },
                ),
          ),
    );
    await probe(node.url);
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push(await probe(node.url));
    let closedAt: number | undefined;
    attacker.socket.once("close", () => {
      closedAt = performance.now();
    });
    let replies = 0;
    attacker.socket.on("message", () => {
      replies += 1;
    });
    const started = performance.now();
    for (const text of texts) attacker.socket.send(text);
    // A final frame the node answers marks the end of the flood's processing (if still open).
    const marker = JSON.stringify(
      seal(attacker.identity, "device.bogus", { end: true }, { nowMs: Date.now() }),
    );
    attacker.socket.send(marker);
    // Until the node closed the socket, or answered every frame it answers (the marker at last).
    const expected = replies + (flood === "refused" ? frames + 1 : 1);
    const during: number[] = [];
    while (closedAt === undefined && replies < expected) during.push(await probe(node.url));
    const endedMs = (closedAt ?? performance.now()) - started;
    const idleMs = Math.max(2, median(idle));
    return {
      idleMs,
      duringMs: median(during),
      maxMs: Math.max(...during),
      ratio: median(during) / idleMs,
      endedMs,
      closed: closedAt !== undefined,
      replies,
    };
  } finally {
    attacker.close();
    await node.close();
  }
}

export default async function channel({ quick }: { quick: boolean }): Promise<BenchReport> {
  const frames = quick ? 500 : 2_000;
  const runs = quick ? 1 : 3;
  const rows: BenchRow[] = [];
  for (const flood of ["garbage", "refused", "heartbeats"] as const) {
    for (const [budgets, limits] of [
      ["on", {}],
      ["lifted", UNLIMITED],
    ] as const) {
      const results = await repeat(runs, () => run(flood, limits, frames));
      rows.push({
        flood,
        budgets,
        frames,
        "idle p50 ms": median(results.map((r) => r.idleMs)),
        "during p50 ms": median(results.map((r) => r.duringMs)),
        "during max ms": median(results.map((r) => r.maxMs)),
        "stall ratio": median(results.map((r) => r.ratio)),
        "flood lasted ms": median(results.map((r) => r.endedMs)),
        closed: results.every((r) => r.closed) ? "yes" : "no",
        "signed replies": median(results.map((r) => r.replies)),
      });
    }
  }
  return {
    name: "channel",
    question:
      "How long do other clients wait while one registered device floods the channel, with and without its budgets?",
    rows,
    notes: [
      `${runs} run(s) per row, medians; one device floods ${frames} frames at once, the probe (GET /v1/node) runs back to back in the same process until the flood is closed or handled.`,
      "budgets lifted: frame and error budgets set to 1e9 (the yield between frames stays); the rows show what the budgets themselves buy.",
    ],
  };
}
