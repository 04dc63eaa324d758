import { crc32, deflateSync } from "node:zlib";
import { isDpnError } from "@dpn/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RENDER_IMAGE_INVALID } from "./errors.ts";
import type { RgbaImage } from "./image.ts";
import { decodePng, encodePng } from "./png.ts";

function expectInvalid(bytes: Uint8Array, maxPixels?: number): void {
  let thrown: unknown;
  try {
    decodePng(bytes, maxPixels);
  } catch (error) {
    thrown = error;
  }
  expect(isDpnError(thrown, RENDER_IMAGE_INVALID)).toBe(true);
}

function chunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG written by hand: the given header fields and raw (filtered) rows. */
function handMade(
  width: number,
  height: number,
  colorType: number,
  rows: Uint8Array,
  options: { bitDepth?: number; interlace?: number; extra?: Buffer[] } = {},
): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([options.bitDepth ?? 8, colorType, 0, 0, options.interlace ?? 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    ...(options.extra ?? []),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

const image = fc
  .record({ width: fc.integer({ min: 1, max: 24 }), height: fc.integer({ min: 1, max: 24 }) })
  .chain(({ width, height }) =>
    fc
      .uint8Array({ minLength: width * height * 4, maxLength: width * height * 4 })
      .map((data): RgbaImage => ({ width, height, data })),
  );

describe("PNG", () => {
  it("decodes what it encodes, pixel for pixel", () => {
    fc.assert(
      fc.property(image, (original) => {
        const decoded = decodePng(encodePng(original));
        expect(decoded.width).toBe(original.width);
        expect(decoded.height).toBe(original.height);
        expect(Buffer.from(decoded.data).equals(Buffer.from(original.data))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("reads RGB, grey and grey+alpha as RGBA, undoing every row filter", () => {
    // One 2×1 row per filter type 0–4, RGB: the filters reconstruct the same two pixels.
    const rgb = handMade(
      2,
      5,
      2,
      Uint8Array.from(
        [
          [0, 10, 20, 30, 40, 50, 60],
          [1, 10, 20, 30, 30, 30, 30],
          [2, 0, 0, 0, 0, 0, 0],
          [3, 5, 10, 15, 15, 15, 15],
          [4, 0, 0, 0, 0, 0, 0],
        ].flat(),
      ),
    );
    const decoded = decodePng(rgb);
    for (let y = 0; y < 5; y++) {
      expect([...decoded.data.subarray(y * 8, y * 8 + 8)]).toEqual([
        10, 20, 30, 255, 40, 50, 60, 255,
      ]);
    }
    expect([...decodePng(handMade(1, 1, 0, Uint8Array.from([0, 77]))).data]).toEqual([
      77, 77, 77, 255,
    ]);
    expect([...decodePng(handMade(1, 1, 4, Uint8Array.from([0, 77, 9]))).data]).toEqual([
      77, 77, 77, 9,
    ]);
  });

  it("refuses corrupt, truncated and unsupported files with RENDER_IMAGE_INVALID", () => {
    const good = encodePng({ width: 4, height: 3, data: new Uint8Array(48).fill(200) });
    expectInvalid(new Uint8Array(0));
    expectInvalid(Uint8Array.from(Buffer.from("GIF89a not a png at all")));
    expectInvalid(good.subarray(0, good.length - 5)); // IEND cut off
    const flipped = new Uint8Array(good);
    flipped[40] = (flipped[40] as number) ^ 1; // inside IDAT: its checksum no longer matches
    expectInvalid(flipped);
    expectInvalid(handMade(1, 1, 6, Uint8Array.from([0, 1, 2, 3, 4]), { bitDepth: 16 }));
    expectInvalid(handMade(1, 1, 6, Uint8Array.from([0, 1, 2, 3, 4]), { interlace: 1 }));
    expectInvalid(
      handMade(1, 1, 3, Uint8Array.from([0, 0]), { extra: [chunk("PLTE", new Uint8Array(3))] }),
    );
    expectInvalid(handMade(1, 1, 6, Uint8Array.from([5, 1, 2, 3, 4]))); // filter type 5
    expectInvalid(handMade(2, 2, 6, Uint8Array.from([0, 1, 2, 3, 4]))); // too few rows
  });

  it("ignores ancillary chunks", () => {
    const withText = handMade(1, 1, 6, Uint8Array.from([0, 1, 2, 3, 4]), {
      extra: [chunk("tEXt", Buffer.from("Software\0Blender"))],
    });
    expect([...decodePng(withText).data]).toEqual([1, 2, 3, 4]);
  });

  it("refuses an image over maxPixels before inflating anything", () => {
    const good = encodePng({ width: 10, height: 10, data: new Uint8Array(400) });
    expect(decodePng(good, 100).width).toBe(10);
    expectInvalid(good, 99);
    // A header that claims 65536² pixels over a few bytes of data: refused by the default bound.
    expectInvalid(handMade(65_536, 65_536, 6, Uint8Array.from([0, 0, 0, 0, 0])));
  });

  it("stops inflating at the announced size (a decompression bomb is refused)", () => {
    // 1×1 announced, 10 MB of zeros deflated to a few kB.
    expectInvalid(handMade(1, 1, 6, new Uint8Array(10_000_000)));
  });

  it("refuses to encode an image whose pixel buffer does not match its size", () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(
      expect.objectContaining({ code: RENDER_IMAGE_INVALID }),
    );
  });
});
