/**
 * A reader of server-sent events (the WHATWG HTML "event stream" format) over a fetch body, so a
 * stream works the same in Node and browsers, with an AbortSignal and the node's JSON 404 before
 * it (EventSource can do neither). Only what the node sends is interpreted: `event:` and `data:`
 * fields, comments (`:` heartbeats) skipped; `id:` and `retry:` are ignored.
 */

export interface ServerSentEvent {
  /** The `event:` field; "message" when the event has none (as EventSource). */
  readonly event: string;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
}

/**
 * The longest event accepted, in bytes of text: a job's view grows with its fragments, and 8 MiB
 * holds a view of the largest job the node plans with room to spare; a stream that never ends an
 * event stops here instead of filling memory.
 */
export const MAX_EVENT_BYTES = 8 * 1024 * 1024;

export class EventTooLargeError extends Error {
  override readonly name = "EventTooLargeError";
}

/** Yields the events of a stream as they complete; cancels the stream when the caller stops. */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let pending = 0;
  // How far `buffer` is known to hold no line end, so a long line is scanned once, not per chunk.
  let scanned = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        const end = lineEnd(buffer, scanned, done);
        if (end === undefined) {
          scanned = buffer.length;
          break;
        }
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end.length);
        scanned = 0;
        if (line === "") {
          if (data.length > 0)
            yield { event: event === "" ? "message" : event, data: data.join("\n") };
          event = "";
          data = [];
          pending = 0;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon === -1 ? line : line.slice(0, colon);
        let text = colon === -1 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (name === "event") event = text;
        else if (name === "data") {
          data.push(text);
          pending += text.length;
        }
      }
      if (pending + buffer.length > MAX_EVENT_BYTES) {
        throw new EventTooLargeError(`An event is longer than ${MAX_EVENT_BYTES} bytes.`);
      }
      // An event the stream ends in the middle of is dropped, as EventSource does.
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Where the first line of `text` ends, searching from `from`: CRLF, LF or CR. A CR at the very end
 * may be half of a CRLF, so it ends a line only when the stream is over.
 */
function lineEnd(
  text: string,
  from: number,
  final: boolean,
): { index: number; length: number } | undefined {
  for (let i = Math.max(0, from - 1); i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) return { index: i, length: 1 };
    if (c === 13) {
      if (i + 1 === text.length) return final ? { index: i, length: 1 } : undefined;
      return { index: i, length: text.charCodeAt(i + 1) === 10 ? 2 : 1 };
    }
  }
  return undefined;
}
