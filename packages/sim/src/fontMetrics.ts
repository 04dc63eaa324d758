/**
 * Advance widths from a TrueType font, for chart layout. Without a canvas, vega estimates every
 * character as 0.8 em wide, so labels get truncated and charts grow wide margins; resvg then
 * draws the text with the real font. Reading the font's own widths (cmap format 4 and hmtx)
 * makes vega lay out exactly the text resvg draws. Kerning is ignored (a pixel or two per label).
 */
export interface FontMetrics {
  /** Width in pixels of `text` set at `fontSizePx`. */
  width(text: string, fontSizePx: number): number;
}

/** The font file is not a TrueType font this reader understands (a programmer error: we ship it). */
function malformed(what: string): never {
  throw new Error(`Not a usable TrueType font: ${what}.`);
}

export function readFontMetrics(ttf: Uint8Array): FontMetrics {
  const view = new DataView(ttf.buffer, ttf.byteOffset, ttf.byteLength);
  const tables = new Map<string, number>();
  const numTables = view.getUint16(4);
  for (let t = 0; t < numTables; t++) {
    const record = 12 + 16 * t;
    const tag = String.fromCharCode(
      view.getUint8(record),
      view.getUint8(record + 1),
      view.getUint8(record + 2),
      view.getUint8(record + 3),
    );
    tables.set(tag, view.getUint32(record + 8));
  }
  const table = (tag: string): number => tables.get(tag) ?? malformed(`no ${tag} table`);
  const unitsPerEm = view.getUint16(table("head") + 18);
  const metricsCount = view.getUint16(table("hhea") + 34);
  const hmtx = table("hmtx");
  // Glyphs past numberOfHMetrics share the last advance (monospaced tails).
  const advance = (glyph: number): number =>
    view.getUint16(hmtx + 4 * Math.min(glyph, metricsCount - 1));

  // cmap: the Windows Unicode BMP subtable (3, 1) or a Unicode one (0, *), format 4.
  const cmap = table("cmap");
  let subtable = -1;
  for (let k = 0; k < view.getUint16(cmap + 2); k++) {
    const record = cmap + 4 + 8 * k;
    const platform = view.getUint16(record);
    const encoding = view.getUint16(record + 2);
    const offset = cmap + view.getUint32(record + 4);
    if (view.getUint16(offset) !== 4) continue;
    if ((platform === 3 && encoding === 1) || platform === 0) {
      subtable = offset;
      break;
    }
  }
  if (subtable < 0) malformed("no format-4 Unicode cmap");
  const segments = view.getUint16(subtable + 6) / 2;
  const endCodes = subtable + 14;
  const startCodes = endCodes + 2 * segments + 2;
  const deltas = startCodes + 2 * segments;
  const rangeOffsets = deltas + 2 * segments;
  const glyphOf = (code: number): number => {
    for (let i = 0; i < segments; i++) {
      if (view.getUint16(endCodes + 2 * i) < code) continue;
      const start = view.getUint16(startCodes + 2 * i);
      if (start > code) return 0;
      const delta = view.getUint16(deltas + 2 * i);
      const rangeOffset = view.getUint16(rangeOffsets + 2 * i);
      if (rangeOffset === 0) return (code + delta) & 0xffff;
      const glyph = view.getUint16(rangeOffsets + 2 * i + rangeOffset + 2 * (code - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };

  const units = new Map<number, number>();
  return {
    width(text, fontSizePx) {
      let total = 0;
      for (const char of text) {
        const code = char.codePointAt(0) ?? 0;
        let w = units.get(code);
        if (w === undefined) {
          // Outside the BMP (no format-4 mapping): the missing glyph's advance.
          w = advance(code > 0xffff ? 0 : glyphOf(code));
          units.set(code, w);
        }
        total += w;
      }
      return (total * fontSizePx) / unitsPerEm;
    },
  };
}
