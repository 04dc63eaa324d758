import { base64 } from "@scure/base";

/**
 * Bytes as text on the wire: keys and signatures travel as standard base64 with padding (RFC
 * 4648 §4), which is what every DPN client has always sent. Decoding is strict — a stray
 * character or missing padding is refused rather than skipped — so one text has one meaning.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  return base64.encode(bytes);
}

/** Decodes standard base64; undefined when the text is not canonical base64. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  try {
    return base64.decode(text);
  } catch {
    return undefined;
  }
}
