import { createHash } from "node:crypto";
import { DpnError } from "@dpn/protocol";
import { type Identity, nodeEndpoint, seal } from "@dpn/wire";
import { DEVICE_ARTIFACT_UPLOAD_FAILED } from "./errors.ts";

/**
 * Stores bytes at the node as a content-addressed artifact and resolves to their SHA-256: how an
 * executor returns output too large for a result frame (a rendered tile's PNG).
 */
export type ArtifactUpload = (bytes: Uint8Array, signal?: AbortSignal) => Promise<string>;

/** The node's answer is `{ sha256, bytes }`, or an error document; nothing longer. */
const MAX_UPLOAD_RESPONSE_CHARS = 16 * 1024;

/**
 * `PUT {nodeUrl}/v1/artifacts/{sha256}` with a signed `artifact.put` request in the
 * x-dpn-request header, signed by the device's own identity (the node records who uploaded what).
 */
export function httpArtifactUpload(
  nodeUrl: string,
  identity: Identity,
  now: () => number = Date.now,
): ArtifactUpload {
  return async (bytes, signal) => {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const url = nodeEndpoint(nodeUrl, `v1/artifacts/${sha256}`);
    const request = {
      envelope: seal(identity, "artifact.put", { sha256, bytes: bytes.length }, { nowMs: now() }),
      keys: {
        ed25519PublicKey: Buffer.from(identity.ed25519PublicKey).toString("base64"),
        mldsa44PublicKey: Buffer.from(identity.mldsa44PublicKey).toString("base64"),
      },
    };
    let response: Response;
    try {
      response = await fetch(url, {
        method: "PUT",
        headers: {
          "content-type": "application/octet-stream",
          "x-dpn-request": JSON.stringify(request),
        },
        body: bytes,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new DpnError(DEVICE_ARTIFACT_UPLOAD_FAILED, `Cannot upload artifact ${sha256}.`, {
        hint: "Check that the bank node is reachable; the task will be retried elsewhere.",
        cause: error,
        details: { url: url.href },
      });
    }
    const text = (await response.text()).slice(0, MAX_UPLOAD_RESPONSE_CHARS);
    if (!response.ok) {
      let code: unknown;
      try {
        code = (JSON.parse(text) as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      throw new DpnError(
        DEVICE_ARTIFACT_UPLOAD_FAILED,
        `The node refused artifact ${sha256} (HTTP ${response.status}${typeof code === "string" ? `, ${code}` : ""}).`,
        {
          hint: "The node's artifact limit may be lower than the image; see its log.",
          details: { url: url.href, status: response.status, nodeCode: code },
        },
      );
    }
    return sha256;
  };
}
