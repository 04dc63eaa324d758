import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDpnError } from "@dpn/protocol";
import {
  blenderVersion,
  compareImages,
  decodePng,
  EXAMPLE_SCENE,
  renderTile,
  stitchTiles,
} from "@dpn/render";
import {
  type Identity,
  identityFromSeeds,
  identityId,
  type Lease,
  open,
  parseEnvelope,
  RenderOutput,
} from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactCache } from "../artifactCache.ts";
import { httpArtifactUpload } from "../artifactUpload.ts";
import { DEVICE_ARTIFACT_UPLOAD_FAILED, DEVICE_TASK_INVALID } from "../errors.ts";
import { runLease } from "../taskRunner.ts";
import type { ExecutorPool } from "./pool.ts";

const seedOf = (label: string): Uint8Array => createHash("sha256").update(label).digest();
const DEVICE: Identity = identityFromSeeds(seedOf("render-device/ed"), seedOf("render-device/pq"));

/**
 * The node's side of `PUT /v1/artifacts/:sha256` on loopback: it checks the signed artifact.put
 * (sender's keys, signature, hash and size of the bytes) as the node does and keeps the bytes.
 */
class ArtifactServer {
  readonly stored = new Map<string, { bytes: Buffer; sender: string }>();
  /** Answer every upload with this status instead (a node whose limit is lower, say). */
  refuseWith: number | undefined;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const bytes = Buffer.concat(chunks);
        const reply = (status: number, body: unknown): void => {
          response.writeHead(status, { "content-type": "application/json" });
          response.end(JSON.stringify(body));
        };
        if (this.refuseWith !== undefined) {
          return reply(this.refuseWith, { code: "ARTIFACT_TOO_LARGE", message: "too large" });
        }
        try {
          const sha256 = /^\/v1\/artifacts\/([0-9a-f]{64})$/.exec(request.url ?? "")?.[1];
          const { envelope, keys } = JSON.parse(String(request.headers["x-dpn-request"]));
          const sender = {
            ed25519PublicKey: new Uint8Array(Buffer.from(keys.ed25519PublicKey, "base64")),
            mldsa44PublicKey: new Uint8Array(Buffer.from(keys.mldsa44PublicKey, "base64")),
          };
          const id = identityId(sender.ed25519PublicKey, sender.mldsa44PublicKey);
          const parsed = parseEnvelope(envelope);
          if (request.method !== "PUT" || parsed.kind !== "artifact.put") throw new Error("kind");
          const body = open(parsed, { id, ...sender }, { nowMs: Date.now() }) as {
            sha256: string;
            bytes: number;
          };
          const actual = createHash("sha256").update(bytes).digest("hex");
          if (body.sha256 !== sha256 || actual !== sha256 || body.bytes !== bytes.length) {
            return reply(400, { code: "ARTIFACT_HASH_MISMATCH" });
          }
          this.stored.set(sha256, { bytes, sender: id });
          reply(201, { sha256, bytes: bytes.length });
        } catch (error) {
          reply(400, { code: "MESSAGE_INVALID", message: String(error) });
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) =>
      this.server === undefined ? resolve() : this.server.close(() => resolve()),
    );
  }
}

const scene = readFileSync(EXAMPLE_SCENE);
const sceneSha256 = createHash("sha256").update(scene).digest("hex");
const SIZE = { width: 32, height: 24, samples: 2 };

function renderLease(overrides: Partial<Lease> = {}): Lease {
  return {
    taskId: "job_r.0",
    jobId: "job_r",
    type: "render",
    leaseExpiresAtMs: Date.now() + 120_000,
    artifacts: { scene: sceneSha256 },
    items: [0, 1].map((column) => ({
      frame: 4,
      tile: { column, row: 0, columns: 2, rows: 1 },
      ...SIZE,
    })),
    ...overrides,
  } as Lease;
}

// renderLease never uses the worker threads; a render runs Blender as a child process.
const noPool = {} as ExecutorPool;

describe.skipIf((await blenderVersion()) === undefined)("runLease for render", () => {
  const server = new ArtifactServer();
  let cache: ArtifactCache;
  beforeAll(async () => {
    await server.start();
    cache = new ArtifactCache({
      dir: join(mkdtempSync(join(tmpdir(), "dpn-device-render-")), "cache"),
      source: async function* () {
        yield scene;
      },
    });
  });
  afterAll(() => server.stop());

  it("renders each tile, uploads its PNG signed by the device and returns hash and size", async () => {
    const upload = httpArtifactUpload(server.url, DEVICE);
    const result = await runLease(
      renderLease(),
      { pool: noPool, cache, upload },
      new AbortController().signal,
    );
    expect(result.outputs).toHaveLength(2);
    const tiles = result.outputs.map((output, column) => {
      const { image, bytes, width, height } = RenderOutput.parse(output);
      const stored = server.stored.get(image);
      expect(stored?.sender).toBe(DEVICE.id);
      expect(stored?.bytes.length).toBe(bytes);
      expect([width, height]).toEqual([16, 24]);
      return {
        tile: { column, row: 0, columns: 2, rows: 1 },
        image: decodePng(new Uint8Array(stored?.bytes ?? [])),
      };
    });
    const whole = decodePng(
      await renderTile({
        scenePath: EXAMPLE_SCENE,
        frame: 4,
        tile: { column: 0, row: 0, columns: 1, rows: 1 },
        ...SIZE,
      }),
    );
    expect(compareImages(stitchTiles(32, 24, tiles), whole).agree).toBe(true);
  });

  it("fails with the node's refusal when the upload is refused, and on a lease without a scene", async () => {
    const upload = httpArtifactUpload(server.url, DEVICE);
    const codeOf = async (lease: Lease): Promise<string | undefined> => {
      try {
        await runLease(lease, { pool: noPool, cache, upload }, new AbortController().signal);
      } catch (error) {
        return isDpnError(error) ? error.code : String(error);
      }
      return undefined;
    };
    expect(await codeOf(renderLease({ artifacts: {} }))).toBe(DEVICE_TASK_INVALID);
    server.refuseWith = 413;
    try {
      expect(await codeOf(renderLease({ items: [renderLease().items[0]] as Lease["items"] }))).toBe(
        DEVICE_ARTIFACT_UPLOAD_FAILED,
      );
    } finally {
      server.refuseWith = undefined;
    }
  });
});
