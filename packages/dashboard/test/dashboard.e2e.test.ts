import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exampleInputs, loadVerificationKey, poseidonChain } from "@dpn/circuits";
import { parseDpn } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { type Identity, newIdentity } from "@dpn/wire";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../../node/src/server.ts";
import { ProtocolDevice } from "../../node/test/protocolDevice.ts";
import { formatDpnAmount } from "../src/format.ts";

/**
 * The dashboard end to end: a real node serving the built dashboard, two devices in different
 * regions over the real device channel, a hash job paid through the SDK, and Debian's chromium
 * driven by playwright-core; then the tab itself becomes a device, classified heavy, that proves
 * a Groth16 job with snarkjs in a Web Worker. CI installs chromium (`apt-get install -y chromium`); without it the
 * suite is skipped with a message.
 */
const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const ARTIFACTS = join(PACKAGE_DIR, "test-artifacts");
/** Longest wait for the page to show a state the node already has (polling is 1 s). */
const UI_TIMEOUT_MS = 10_000;

/** An identity file as `dpn keys new` writes it, for the page's file inputs. */
const keyFile = (identity: Identity) => ({
  name: "identity.json",
  mimeType: "application/json",
  buffer: Buffer.from(
    JSON.stringify({
      format: "dpn-identity/v1",
      id: identity.id,
      ed25519Seed: Buffer.from(identity.ed25519Seed).toString("base64"),
      mldsa44Seed: Buffer.from(identity.mldsa44Seed).toString("base64"),
    }),
  ),
});

if (!HAS_CHROMIUM) {
  console.warn(
    `dashboard e2e skipped: ${CHROMIUM} is missing (install it with \`apt-get install -y chromium\`).`,
  );
}

describe.skipIf(!HAS_CHROMIUM)("dashboard end to end (node, devices, chromium)", () => {
  const requester = newIdentity();
  const ownerBerlin = newIdentity();
  const ownerSydney = newIdentity();
  let profileDir = "";
  let node: RunningNode;
  let client: DpnClient;
  let devices: ProtocolDevice[] = [];
  let context: BrowserContext;
  let page: Page;
  let working = true;
  let dist = "";

  /**
   * Signs the page in as `identity` unless it already reads as someone: the key stays in the
   * tab's memory, so a navigation within the page keeps it and a reload forgets it.
   */
  async function signInAs(identity: Identity): Promise<void> {
    const either = page.locator('[data-testid="read-key"], [data-testid="signed-in"]').first();
    await either.waitFor({ timeout: UI_TIMEOUT_MS });
    if ((await page.getByTestId("read-key").count()) > 0) {
      await page.getByTestId("read-key").setInputFiles(keyFile(identity));
    }
    await expect
      .poll(() => page.getByTestId("signed-in").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(identity.id);
  }

  beforeAll(async () => {
    // A fresh build of the current sources into a directory of its own (≈ 2 s), so the test never
    // runs a stale dist/ and never rewrites the one other tests' nodes may be serving.
    dist = mkdtempSync(join(tmpdir(), "dpn-dashboard-dist-"));
    execFileSync(
      "npx",
      ["vite", "build", "--outDir", dist, "--emptyOutDir", "--logLevel", "warn"],
      {
        cwd: PACKAGE_DIR,
        stdio: "inherit",
      },
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    node = await startNode({
      dataDir: mkdtempSync(join(tmpdir(), "dpn-dashboard-")),
      port: 0,
      logLevel: "silent",
      grants: { [requester.id]: "1000" },
      // The tab's benchmark falls with the machine's load; the heavy bar is set low enough that
      // the class never depends on it (the rule itself is tested in @dpn/protocol).
      params: { "devices.heavyBrowserMinCuPerSec": 0.01 },
      dashboardDir: dist,
    });
    client = new DpnClient({ url: node.url, identity: requester });
    devices = [
      new ProtocolDevice({ url: node.url, owner: ownerBerlin.id, geohash: "u33d" }),
      new ProtocolDevice({
        url: node.url,
        owner: ownerSydney.id,
        geohash: "r3gx",
        deviceClass: "phone",
      }),
    ];
    for (const device of devices) await device.connect();
    profileDir = mkdtempSync(join(tmpdir(), "dpn-chromium-"));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    working = false;
    await context?.close();
    for (const device of devices) device.close();
    await node?.close();
    if (profileDir !== "") rmSync(profileDir, { recursive: true, force: true });
    if (dist !== "") rmSync(dist, { recursive: true, force: true });
  });

  it("renders the overview with both devices on the map", async () => {
    await page.goto(`${node.url}/`);
    await expect
      .poll(() => page.locator("svg.world-map g.device-cell").count(), { timeout: UI_TIMEOUT_MS })
      .toBe(2);
    const markers = await page.locator("svg.world-map g.device-cell").all();
    const cells = await Promise.all(markers.map((m) => m.getAttribute("data-geohash")));
    expect(cells.sort()).toEqual(["r3gx", "u33d"]);
    // Berlin (52.5° N, 13.4° E) is drawn above and left of Sydney (33.9° S, 151.2° E).
    const position = async (hash: string) => {
      const box = await page.locator(`g.device-cell[data-geohash="${hash}"] circle`).boundingBox();
      if (box === null) throw new Error(`the ${hash} marker has no box`);
      return box;
    };
    const berlin = await position("u33d");
    const sydney = await position("r3gx");
    expect(berlin.y).toBeLessThan(sydney.y);
    expect(berlin.x).toBeLessThan(sydney.x);
    await expect
      .poll(() => page.getByTestId("devices-online").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("2");
    expect(await page.getByTestId("exchange-rate").textContent()).toMatch(/CU\/DPN/);
    await page.screenshot({ path: join(ARTIFACTS, "overview.png"), fullPage: true });
  });

  // Before the progress test: its devices keep asking for work afterwards and would finish this job.
  it("cancels a job only with the requester's key file, read in the page", async () => {
    const job = await client.submitJob({
      spec: { type: "hash", items: [{ seed: "ab".repeat(32), iterations: 10 }] },
      budget: "1",
      deadlineMs: Date.now() + 600_000,
      clientRef: "dashboard-cancel",
    });
    await page.goto(`${node.url}/#/jobs/${job.jobId}`);
    // Unsigned, the page shows that the job is private, not the job.
    await expect
      .poll(() => page.getByTestId("job-private").count(), { timeout: UI_TIMEOUT_MS })
      .toBe(1);
    expect(await page.getByTestId("job-facts").count()).toBe(0);
    // Signed in as someone else, the node's refusal: the job is not theirs.
    await page.getByTestId("read-key").setInputFiles(keyFile(newIdentity()));
    await expect
      .poll(() => page.getByRole("alert").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("READ_FORBIDDEN");
    await page.getByRole("button", { name: "Sign out" }).click();
    await signInAs(requester);
    const input = page.getByTestId("cancel-key");
    await input.setInputFiles(keyFile(newIdentity()));
    await expect
      .poll(() => page.getByTestId("cancel-error").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`only the requester ${requester.id} may cancel this job`);
    await input.setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("hello"),
    });
    await expect
      .poll(() => page.getByTestId("cancel-error").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("not JSON");
    expect((await client.job(job.jobId)).state).toBe("open");
    await input.setInputFiles(keyFile(requester));
    await expect
      .poll(() => page.getByTestId("job-state").textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe("cancelled");
    expect((await client.job(job.jobId)).spent).toBe("0");
  });

  it("shows a job's progress live until it is done", async () => {
    const job = await client.submitJob({
      spec: {
        type: "hash",
        items: Array.from({ length: 8 }, (_, i) => ({
          seed: i.toString(16).padStart(64, "0"),
          iterations: 1000,
        })),
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "dashboard-e2e",
    });
    await page.goto(`${node.url}/#/jobs/${job.jobId}`);
    await signInAs(requester);
    const progress = page.getByTestId("job-progress");
    await expect.poll(() => progress.textContent(), { timeout: UI_TIMEOUT_MS }).toContain(`0 / 8`);
    expect(await page.getByTestId("job-state").textContent()).toBe("open");

    // Only now do the devices work, so every change below reaches an already open page.
    const work = devices.map(async (device) => {
      while (working) {
        try {
          await device.workOnce();
        } catch {
          return; // no lease for this device within the wait: it has nothing to do
        }
        if ((await client.job(job.jobId)).state === "done") return;
      }
    });
    await expect
      .poll(() => page.getByTestId("job-state").textContent(), { timeout: 30_000 })
      .toBe("done");
    expect(await progress.textContent()).toContain("8 / 8 (100%)");
    // The same page load went from 0 / 8 to 8 / 8: the job's event stream updated it live.
    // Each fragment names the device and region that ran it.
    const rows = await page.getByTestId("fragments").locator("tbody tr").allTextContents();
    expect(rows.length).toBe(job.fragments.length);
    for (const row of rows) expect(row).toMatch(/done.*(u33d|r3gx)/);
    // The download link carries the requester's signed read; the bare path is refused.
    const result = await page.getByTestId("result").getAttribute("href");
    expect(result).toMatch(new RegExp(`^/v1/jobs/${job.jobId}/result\\?dpn-read=[A-Za-z0-9_-]+$`));
    const outputs = (await (await fetch(`${node.url}${result}`)).json()) as { outputs: unknown[] };
    expect(outputs.outputs).toHaveLength(8);
    expect((await fetch(`${node.url}/v1/jobs/${job.jobId}/result`)).status).toBe(401);
    working = false;
    void Promise.allSettled(work);
  });

  it("shows the node's code for a job it does not have", async () => {
    // The job page follows the event stream through the SDK; the node refuses it with a coded 404.
    await page.goto(`${node.url}/#/jobs/job_00000000000000ff`);
    await signInAs(requester);
    await expect
      .poll(() => page.getByRole("alert").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("JOB_NOT_FOUND: There is no job job_00000000000000ff.");
  });

  it("shows a specific error for a bad wallet id and the balance for a good one", async () => {
    await page.goto(`${node.url}/#/wallet`);
    const input = page.locator('input[name="account-id"]');
    await input.fill("dpn_12345");
    await page.getByRole("button", { name: "Show" }).click();
    const error = page.getByTestId("account-id-error");
    await expect
      .poll(() => error.textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/has 5 hex digits after "dpn_"; it needs exactly 40/);
    expect(await input.getAttribute("aria-invalid")).toBe("true");

    await input.fill(ownerBerlin.id);
    await page.getByRole("button", { name: "Show" }).click();
    await expect
      .poll(() => page.getByTestId("account-id-error").count(), { timeout: UI_TIMEOUT_MS })
      .toBe(0);
    const { balance } = await client.balance(ownerBerlin.id);
    await expect
      .poll(() => page.getByTestId("balance").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`${formatDpnAmount(balance, 18)} DPN`);
    await expect
      .poll(() => page.getByTestId("held").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("open hold(s)");
  });

  it("shows the AMM pool at the anchor, the reserve's decisions and buybacks, and minted vs burned", async () => {
    await page.goto(`${node.url}/#/economics`);
    await expect
      .poll(() => page.getByTestId("supply-chart").locator("canvas").count(), {
        timeout: UI_TIMEOUT_MS,
      })
      .toBeGreaterThan(0);
    const market = page.getByTestId("market");
    await expect.poll(() => market.textContent(), { timeout: UI_TIMEOUT_MS }).toContain("$0.15");
    // The reserve's interest buybacks (§4.2), summed over the epochs the node serves.
    expect((await client.reserve({ limit: 20 })).buybacks.length).toBeGreaterThan(0);
    await expect
      .poll(() => market.textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/Interest bought back[\d.,]+ DPNburned over the last [1-9]\d* epochs/);
    // The default feeds include seeded random walks: both oracles and those feeds say so.
    const compute = page.getByTestId("oracle-compute-usd");
    await expect
      .poll(() => compute.textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("clearing");
    expect(await compute.locator(".state-simulated").count()).toBe(4); // the oracle + 3 walks
    expect(await page.getByTestId("oracle-dpn-usd").locator(".state-simulated").count()).toBe(4);
    await expect
      .poll(() => page.getByTestId("compute-oracle").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("compute-simulated-1");
    await expect
      .poll(() => page.getByTestId("reserve-operations").locator("tbody tr").count(), {
        timeout: UI_TIMEOUT_MS,
      })
      .toBeGreaterThan(0);
  });

  it("turns the tab into a heavy device that runs a hash job and a Groth16 job and is paid", {
    timeout: 90_000,
  }, async () => {
    // Only the browser device stays online, so the jobs must go to it.
    for (const device of devices) device.close();
    await expect
      .poll(async () => (await client.devices()).devices.filter((d) => d.online).length)
      .toBe(0);
    await page.goto(`${node.url}/#/contribute`);
    const deviceId = page.getByTestId("device-id");
    await expect.poll(() => deviceId.textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/^dpn_/);
    const id = (await deviceId.textContent()) ?? "";

    await page.locator('input[name="geohash"]').fill("u3a");
    await page.getByRole("button", { name: "Start" }).click();
    await expect
      .poll(() => page.getByTestId("contribute-error").textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/4-character geohash/);

    await page.locator('input[name="geohash"]').fill("u09t"); // Paris
    await page.locator('input[name="cpu"]').fill("100");
    await page.getByRole("button", { name: "Start" }).click();
    const status = page.getByTestId("contribute-status");
    // docs/protocol.md §Devices: above devices.heavyBrowserMinCuPerSec (lowered for the test)
    // and far below the browser ceiling (8 CU/s): heavy, not a rig.
    await expect
      .poll(() => status.textContent(), { timeout: 30_000 })
      .toMatch(/idle.*browser \(heavy layer\)/);
    const registered = (await client.devices()).devices.find((d) => d.deviceId === id);
    expect(registered).toMatchObject({
      deviceClass: "browser",
      layer: "heavy",
      geohash: "u09t",
      online: true,
    });
    const benchmark = (registered as { cuPerSec?: number } | undefined)?.cuPerSec;
    console.info(`browser benchmark: ${benchmark?.toFixed(3)} CU/s`);

    const hashJob = await client.submitJob({
      spec: {
        type: "hash",
        items: Array.from({ length: 4 }, (_, i) => ({
          seed: (i + 100).toString(16).padStart(64, "0"),
          iterations: 2000,
        })),
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "dashboard-e2e-browser-device",
    });
    expect((await client.waitForJob(hashJob.jobId)).state).toBe("done");
    await expect
      .poll(() => page.getByTestId("contribute-tasks").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`${hashJob.fragments.length} accepted`);
    const afterHash = (await client.balance(id)).balance;
    expect(Number(afterHash)).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId("contribute-balance").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`${formatDpnAmount(afterHash, 18)} DPN`);

    // A Groth16 job: the tab fetches the circuit's wasm and zkey from the node, checks their
    // hashes, proves in its Web Worker, and the node verifies the proof before paying.
    const artifacts = {
      wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
      zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
      verificationKey: await client.uploadArtifact(
        readFileSync(poseidonChain.artifacts.verificationKey),
      ),
    };
    const inputs = exampleInputs("dashboard-e2e", 2);
    const zkJob = await client.submitJob({
      spec: {
        type: "zk-groth16",
        artifacts,
        constraints: poseidonChain.constraints,
        publicInputs: ["h0"],
        items: inputs.map((input) => ({ h0: input.h0, x: [...input.x] })),
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "dashboard-e2e-browser-groth16",
    });
    const proved = await client.waitForJob(zkJob.jobId);
    expect(proved.state).toBe("done");
    expect(proved.fragments.every((f) => f.deviceId === id && f.state === "done")).toBe(true);
    const accepted = hashJob.fragments.length + zkJob.fragments.length;
    await expect
      .poll(() => page.getByTestId("contribute-tasks").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`${accepted} accepted`);
    const afterProofs = (await client.balance(id)).balance;
    expect(parseDpn(afterProofs)).toBeGreaterThan(parseDpn(afterHash));
    // The outputs are Groth16 proofs (not digests) that verify here too, independently of the node.
    const { outputs } = (await client.jobResult(zkJob.jobId)) as unknown as {
      outputs: Array<{ proof: snarkjs.Groth16Proof; publicSignals: string[] }>;
    };
    expect(outputs).toHaveLength(inputs.length);
    const vkey = await loadVerificationKey();
    for (const [i, output] of outputs.entries()) {
      expect(output.proof.protocol).toBe("groth16");
      expect(output.publicSignals[1]).toBe(inputs[i]?.h0);
      expect(await snarkjs.groth16.verify(vkey, output.publicSignals, output.proof)).toBe(true);
    }
    const lastTask = page.getByTestId("contribute-last-task");
    await expect
      .poll(() => lastTask.textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/Groth16 proof/);
    console.info(`browser Groth16: ${await lastTask.textContent()}`);
    await expect
      .poll(() => page.getByTestId("contribute-balance").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`${formatDpnAmount(afterProofs, 18)} DPN`);
    await page.screenshot({ path: join(ARTIFACTS, "contribute.png"), fullPage: true });

    // Hiding the tab pauses the device; showing it again resumes (the page's visibilitychange).
    const setHidden = (hidden: boolean) =>
      page.evaluate(`(() => {
        Object.defineProperty(document, "visibilityState", {
          configurable: true,
          get: () => "${hidden ? "hidden" : "visible"}",
        });
        document.dispatchEvent(new Event("visibilitychange"));
      })()`);
    await setHidden(true);
    await expect
      .poll(() => status.textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/paused \(tab hidden\)/);
    await setHidden(false);
    await expect
      .poll(() => status.textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/^Statusidle/);
    await page.getByRole("button", { name: "Stop" }).click();
    await expect.poll(() => status.textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/stopped/);
  });
});
