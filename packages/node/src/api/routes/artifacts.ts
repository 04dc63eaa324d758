import { createReadStream } from "node:fs";
import { DpnError } from "@dpn/protocol";
import { ArtifactPutResponse, Sha256Hex } from "@dpn/wire";
import { z } from "zod";
import { readAccess } from "../../artifactAccess.ts";
import * as records from "../../store/records.ts";
import { type ApiPlugin, answers } from "../context.ts";
import { readSigner, requireReadSigner } from "../signedRead.ts";
import { readSigned } from "../signedRequest.ts";

/**
 * What an upload's signature covers: the digest and the size of exactly the bytes sent, and
 * whether the uploader publishes them (anyone may then read them: a circuit shared on purpose);
 * without `public`, only the uploader and the devices leased a task that needs them may.
 */
const ArtifactPut = z.strictObject({
  sha256: Sha256Hex,
  bytes: z.number().int().positive(),
  public: z.boolean().optional(),
});
const ArtifactParams = z.strictObject({ sha256: Sha256Hex });

/** Content-addressed artifacts: circuits, models, data fragments, rendered frames. */
export const artifactRoutes: ApiPlugin = async (app, context) => {
  app.put(
    "/v1/artifacts/:sha256",
    {
      schema: {
        summary:
          "Upload a content-addressed artifact (raw bytes), private unless the signed request says public: true. Header x-dpn-request: a signed artifact.put request as JSON.",
        params: ArtifactParams,
        rawBody: "application/octet-stream",
        signedPayload: { kind: "artifact.put", schema: ArtifactPut },
        response: answers({ 201: ArtifactPutResponse }),
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const header = request.headers["x-dpn-request"];
      if (typeof header !== "string") {
        throw new DpnError("MESSAGE_INVALID", "The x-dpn-request header is missing.", {
          hint: "Send a signed artifact.put request ({ envelope, keys }) as JSON in the x-dpn-request header.",
        });
      }
      let raw: unknown;
      try {
        raw = JSON.parse(header);
      } catch {
        throw new DpnError("MESSAGE_INVALID", "The x-dpn-request header is not JSON.", {
          hint: "Send { envelope, keys } as JSON.",
        });
      }
      const { sender, body } = readSigned(raw, "artifact.put", ArtifactPut, context.signed());
      if (
        body.sha256 !== sha256 ||
        !(request.body instanceof Buffer) ||
        body.bytes !== request.body.length
      ) {
        throw new DpnError(
          "ARTIFACT_HASH_MISMATCH",
          "The signed hash or size does not match the upload.",
          { hint: "Sign the SHA-256 and byte length of exactly the bytes you send." },
        );
      }
      context.artifacts.put(request.body, sha256);
      await records.recordArtifact(
        context.store.db,
        sha256,
        request.body.length,
        sender,
        context.now(),
        body.public === true,
      );
      reply.code(201);
      return { sha256, bytes: request.body.length };
    },
  );

  app.get(
    "/v1/artifacts/:sha256",
    {
      schema: {
        summary:
          "Download an artifact by its SHA-256: a published one by anyone; a private one by a signed read of its uploader, of the requester of the job that produced it, or of a device leased a task that needs it.",
        params: ArtifactParams,
        signedRead: "optional",
        produces: { contentType: "application/octet-stream", description: "The artifact's bytes." },
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const signer = readSigner(request, context.signed());
      const { readable, published } = await readAccess(context.store.db, sha256, signer, (d, a) =>
        context.bank.leaseNeeds(d, a),
      );
      // A private artifact and a missing one are refused alike, so a stranger cannot learn
      // whether some bytes are stored here.
      if (!readable) {
        if (signer === undefined)
          requireReadSigner(request, context.signed(), `artifact ${sha256}`);
        throw new DpnError("READ_FORBIDDEN", `Artifact ${sha256} is not yours to read.`, {
          hint: "Sign the read as its uploader, as the requester of the job that made it, or as a device leased a task that needs it; public artifacts need no signature.",
          details: { signer },
        });
      }
      if (!context.artifacts.has(sha256)) {
        throw new DpnError("ARTIFACT_NOT_FOUND", `Artifact ${sha256} is not stored here.`, {
          hint: "Upload it first.",
        });
      }
      reply.header("content-type", "application/octet-stream");
      // Only a published artifact may sit in a shared cache; a private one only in the reader's.
      reply.header(
        "cache-control",
        `${published ? "public" : "private"}, max-age=31536000, immutable`,
      );
      return reply.send(createReadStream(context.artifacts.path(sha256)));
    },
  );
};
