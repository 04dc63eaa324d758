import { z } from "zod";
import { Sha256Hex } from "../schemas.ts";

/** PUT /v1/artifacts/{sha256} (201): the stored artifact's digest and size. */
export const ArtifactPutResponse = z.strictObject({
  sha256: Sha256Hex,
  bytes: z.number().int().positive(),
});
export type ArtifactPutResponse = z.infer<typeof ArtifactPutResponse>;
