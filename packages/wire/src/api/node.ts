import { z } from "zod";
import { Base64 } from "../schemas.ts";

/** GET /v1/node: who the node is (its public keys) and what it runs. */
export const NodeInfoResponse = z.strictObject({
  id: z.string(),
  ed25519PublicKey: Base64,
  mldsa44PublicKey: Base64,
  version: z.string(),
  signaturePolicy: z.enum(["hybrid", "pq-only"]),
  devicesOnline: z.number().int().nonnegative(),
});
export type NodeInfoResponse = z.infer<typeof NodeInfoResponse>;

/** GET /openapi.json: an OpenAPI 3.1 document (its own schema is the OpenAPI specification's). */
export const OpenApiResponse = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
