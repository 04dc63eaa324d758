import { describe, expect, it } from "vitest";
import { MAX_EVENT_BYTES, readServerSentEvents } from "./serverSentEvents.ts";

const encoder = new TextEncoder();

/** A body that delivers `chunks` one read at a time, and records whether it was cancelled. */
function body(chunks: readonly string[]): {
  stream: ReadableStream<Uint8Array>;
  cancelled: () => boolean;
} {
  let next = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(encoder.encode(chunk));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

async function all(chunks: readonly string[]) {
  const events = [];
  for await (const event of readServerSentEvents(body(chunks).stream)) events.push(event);
  return events;
}

describe("readServerSentEvents", () => {
  it("reads named events, skipping comments, whatever the chunking", async () => {
    const text =
      ': keep-alive\n\nevent: job\ndata: {"a":1}\n\n: keep-alive\n\nevent: job\ndata: {"a":2}\n\n';
    const expected = [
      { event: "job", data: '{"a":1}' },
      { event: "job", data: '{"a":2}' },
    ];
    expect(await all([text])).toEqual(expected);
    // Every split point, including inside a field name and between the two line ends.
    for (let i = 1; i < text.length; i++) {
      expect(await all([text.slice(0, i), text.slice(i)])).toEqual(expected);
    }
    expect(await all([...text])).toEqual(expected);
  });

  it("accepts CRLF, CR and LF line ends, joins data lines, defaults the event to message", async () => {
    expect(
      await all(["data: one\r\ndata: two\r\n\r\n", "data:three\r\r", "event: x\ndata\n\n"]),
    ).toEqual([
      { event: "message", data: "one\ntwo" },
      { event: "message", data: "three" },
      { event: "x", data: "" },
    ]);
  });

  it("splits a CRLF across chunks as one line end, not an empty line", async () => {
    expect(await all(["data: a\r", "\ndata: b\r", "\n\r", "\n"])).toEqual([
      { event: "message", data: "a\nb" },
    ]);
  });

  it("decodes UTF-8 split between chunks", async () => {
    const bytes = encoder.encode("data: prix €\n\n");
    const split = bytes.indexOf(0xe2) + 1; // inside the euro sign's three bytes
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.close();
        controller.enqueue(bytes.subarray(0, split));
        controller.enqueue(bytes.subarray(split));
        sent = true;
      },
    });
    const events = [];
    for await (const event of readServerSentEvents(stream)) events.push(event);
    expect(events).toEqual([{ event: "message", data: "prix €" }]);
  });

  it("drops an event the stream ends in the middle of, and ignores an event with no data", async () => {
    expect(await all(["event: job\n\n", 'event: job\ndata: {"a":1}\n'])).toEqual([]);
  });

  it("cancels the body when the reader stops early", async () => {
    const source = body(["data: 1\n\n", "data: 2\n\n", "data: 3\n\n"]);
    for await (const event of readServerSentEvents(source.stream)) {
      expect(event.data).toBe("1");
      break;
    }
    expect(source.cancelled()).toBe(true);
  });

  it(`refuses an event longer than ${MAX_EVENT_BYTES} bytes instead of buffering it`, async () => {
    const piece = `data: ${"x".repeat(1024 * 1024)}\n`;
    // More than the limit is on offer, so the body is still open when the reader gives up.
    const source = body(Array.from({ length: 16 }, () => piece));
    const reader = readServerSentEvents(source.stream);
    await expect(reader.next()).rejects.toThrow(/longer than/);
    expect(source.cancelled()).toBe(true);
  });
});
