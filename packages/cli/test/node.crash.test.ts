import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { afterAll, describe, expect, it } from "vitest";
import { spawnDpn, until } from "./processes.ts";

/**
 * Acknowledged data survives kill -9 of the node: jobs accepted (201) before the kill are all
 * there after a restart, the ledger passes its audit, and the jobs then complete with every task
 * paid once.
 */
const children: ChildProcess[] = [];

function dpn(args: string[]): ChildProcess {
  const child = spawnDpn(args);
  children.push(child);
  return child;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === "object" && address !== null ? address.port : 0),
      );
    });
  });
}

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("the node under kill -9", () => {
  it("keeps every acknowledged job and a balanced ledger, and finishes the jobs after restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dpn-crash-"));
    const requester = newIdentity();
    const nodeKeys = join(dir, "node.json");
    writeKeyFile(nodeKeys, newIdentity());
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const nodeArgs = [
      "node",
      "--data-dir",
      join(dir, "node"),
      "--port",
      String(port),
      "--keys",
      nodeKeys,
      "--grant",
      `${requester.id}=1000`,
      "--log-level",
      "silent",
    ];
    const first = dpn(nodeArgs);
    const client = new DpnClient({ url, identity: requester });
    await until("the node", async () => (await client.node()).id);

    // Submit jobs as fast as possible and kill the node while submissions are in flight.
    const acknowledged: string[] = [];
    let stop = false;
    const submitter = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          const job = await client.submitJob({
            spec: {
              type: "hash",
              items: [{ seed: i.toString(16).padStart(64, "0"), iterations: 10 }],
            },
            budget: "1",
            deadlineMs: Date.now() + 600_000,
            clientRef: `crash-${i}`,
          });
          acknowledged.push(job.jobId);
        } catch {
          return; // the node died mid-request: that submission was never acknowledged
        }
      }
    })();
    await until("a few acknowledged jobs", async () =>
      acknowledged.length >= 5 ? true : undefined,
    );
    first.kill("SIGKILL");
    stop = true;
    await submitter;

    dpn(nodeArgs);
    await until("the restarted node", async () => (await client.node()).id);
    expect((await client.ledgerVerify()).ok).toBe(true);
    for (const jobId of acknowledged) expect((await client.job(jobId)).jobId).toBe(jobId);

    const deviceKeys = join(dir, "device.json");
    writeKeyFile(deviceKeys, newIdentity());
    dpn([
      "worker",
      "--node",
      url,
      "--keys",
      deviceKeys,
      "--class",
      "server",
      "--slots",
      "4",
      "--cache-dir",
      join(dir, "cache"),
      "--log-level",
      "silent",
    ]);
    for (const jobId of acknowledged) expect((await client.waitForJob(jobId)).state).toBe("done");
    expect((await client.ledgerVerify()).ok).toBe(true);
  });
});
