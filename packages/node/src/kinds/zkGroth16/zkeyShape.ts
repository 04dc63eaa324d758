import { readZkeyShape, ZkeyFormatError, type ZkeyShape } from "@dpn/circuits";

/**
 * The size of a job's circuit read from its zkey (@dpn/circuits `readZkeyShape`), a verify-pool
 * work module: the whole coefficient section is read (44 bytes per coefficient, ~670 KB for the
 * example circuit, a share of the zkey that grows with the circuit), which must not stall the
 * node's event loop.
 */
export interface ZkeyShapeRequest {
  readonly zkeyPath: string;
}

export type ZkeyShapeResult =
  | { readonly ok: true; readonly shape: ZkeyShape }
  | { readonly ok: false; readonly reason: string };

export async function work(request: ZkeyShapeRequest): Promise<ZkeyShapeResult> {
  try {
    return { ok: true, shape: await readZkeyShape(request.zkeyPath) };
  } catch (error) {
    // The reader's messages say what is wrong, never where the file is.
    if (error instanceof ZkeyFormatError) return { ok: false, reason: error.message };
    throw error;
  }
}

export const ZKEY_SHAPE_WORK = new URL(import.meta.url);
