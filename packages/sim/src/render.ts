import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Chart } from "./charts.ts";
import { type FontMetrics, readFontMetrics } from "./fontMetrics.ts";

/**
 * Renders a chart: vega-lite compiles the spec to vega, a headless vega View draws it to SVG,
 * resvg rasterises the SVG to PNG. Text uses the DejaVu Sans TTF shipped by the npm package
 * `dejavu-fonts-ttf`, never the system's fonts, so a PNG looks the same on any machine (and a
 * machine with no fonts at all still gets labels).
 *
 * vega takes ~0.5 s to import, so it is imported on first use: `@dpn/sim` stays quick to load
 * for everything that draws no chart.
 */
export interface RenderedChart {
  readonly name: string;
  readonly title: string;
  readonly svg: string;
  readonly png: Uint8Array;
}

const require = createRequire(import.meta.url);

/** The TTF files resvg draws text with (regular for labels, bold for titles). */
export const CHART_FONT_FILES: readonly string[] = [
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"),
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"),
];

/** PNG pixels per SVG pixel: 2 keeps text sharp on high-density screens and in documents. */
const PNG_SCALE = 2;

/** The part of a vega text item that decides its width. */
interface TextItem {
  readonly fontSize?: number | string | null;
  readonly fontWeight?: number | string | null;
}

/** vega-scenegraph's text measurer; replacing `width` is its documented extension point. */
interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

interface Libraries {
  readonly vega: typeof import("vega");
  readonly vegaLite: typeof import("vega-lite");
}

let libraries: Promise<Libraries> | undefined;

/** Imports vega on first use and makes it measure text with the shipped font's own widths. */
function loadLibraries(): Promise<Libraries> {
  libraries ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vegaLite]) => {
    const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;
    if (metrics === undefined) throw new Error("vega no longer exports textMetrics.");
    const [regular, bold] = CHART_FONT_FILES.map((file) => readFontMetrics(readFileSync(file)));
    metrics.width = (item, text) => {
      const size = item.fontSize == null ? 11 : Number(item.fontSize) || 0;
      const weight = item.fontWeight;
      const font: FontMetrics | undefined =
        weight === "bold" || (typeof weight === "number" && weight >= 600) ? bold : regular;
      return font?.width(text == null ? "" : String(text).trim(), size) ?? 0;
    };
    return { vega, vegaLite };
  });
  return libraries;
}

export async function renderChart(chart: Chart): Promise<RenderedChart> {
  const [{ vega, vegaLite }, { Resvg }] = await Promise.all([
    loadLibraries(),
    import("@resvg/resvg-js"),
  ]);
  const compiled = vegaLite.compile(chart.spec).spec;
  // renderer "none": no canvas, the scenegraph is only serialised to SVG.
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      font: {
        fontFiles: [...CHART_FONT_FILES],
        loadSystemFonts: false,
        defaultFontFamily: "DejaVu Sans",
      },
      fitTo: { mode: "zoom", value: PNG_SCALE },
      background: "white",
    })
      .render()
      .asPng();
    return { name: chart.name, title: chart.title, svg, png };
  } finally {
    view.finalize();
  }
}

/** Renders charts one after another (each takes tens of milliseconds). */
export async function renderCharts(charts: readonly Chart[]): Promise<RenderedChart[]> {
  const rendered: RenderedChart[] = [];
  for (const chart of charts) rendered.push(await renderChart(chart));
  return rendered;
}
