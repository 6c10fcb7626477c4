/**
 * PNG copies of charts, for viewers that do not trust a notebook's HTML/SVG (JupyterLab, VS Code
 * and GitHub show `image/png` from an untrusted notebook; the SVG needs trust). Rendered with
 * resvg (the npm package `@resvg/resvg-wasm`, no native code) and the DejaVu Sans font from
 * Debian's `fonts-dejavu-core`, so tick labels and titles are drawn.
 *
 * [choice] Scale 1.5 (a 640 × 360 chart becomes 960 × 540 px), white background. Set
 * `QUANTLAB_CHART_PNG=0` to leave the PNG out (saves about a second per chart under load).
 * When the wasm module or the font cannot be loaded, {@linkcode svgToPng} returns undefined and
 * charts carry only their SVG (one warning names what is missing).
 *
 * @example
 * ```ts
 * import { svgToPng } from "./raster.ts";
 * const png = svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
 * console.log(png === undefined || png[1] === 0x50); // PNG magic "\x89PNG"
 * ```
 *
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";

/** Scale of the PNG relative to the SVG's size. [choice] */
export const PNG_SCALE = 1.5;

/** Where the font is looked for (Debian's fonts-dejavu-core, then fonts-dejavu-extra's dir). */
export const FONT_CANDIDATES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

async function load(): Promise<string | undefined> {
  if (Deno.env.get("QUANTLAB_CHART_PNG") === "0") return undefined;
  const font = FONT_CANDIDATES.find((f) => {
    try {
      return Deno.statSync(f).isFile;
    } catch {
      return false;
    }
  });
  if (!font) {
    console.warn(
      `[quantlab] charts carry no PNG copy: no font at ${FONT_CANDIDATES.join(" or ")} ` +
        "(apt-get install fonts-dejavu-core)",
    );
    return undefined;
  }
  try {
    const wasmUrl = import.meta.resolve("@resvg/resvg-wasm").replace(
      /index\.\w+$/,
      "index_bg.wasm",
    );
    await initWasm(await Deno.readFile(new URL(wasmUrl)));
  } catch (err) {
    console.warn(`[quantlab] charts carry no PNG copy: @resvg/resvg-wasm did not load: ${err}`);
    return undefined;
  }
  return font;
}

const fontFile: string | undefined = await load();

/** Whether PNG copies are available in this process. */
export function rasterAvailable(): boolean {
  return fontFile !== undefined;
}

/** Rasterise one standalone SVG document (with `xmlns`) to PNG bytes; undefined when disabled. */
export function svgToPng(svg: string, scale: number = PNG_SCALE): Uint8Array | undefined {
  if (!fontFile) return undefined;
  const r = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { fontFiles: [fontFile], defaultFontFamily: "DejaVu Sans", loadSystemFonts: false },
  });
  return r.render().asPng();
}

/** A chart's main `<svg data-chart>` (else its first `<svg>`), or undefined. */
function mainSvg(html: string): string | undefined {
  return html.match(/<svg\b[^>]*\bdata-chart\b[\s\S]*?<\/svg>/)?.[0] ??
    html.match(/<svg\b[\s\S]*?<\/svg>/)?.[0];
}

/** An SVG's drawn size from its width/height attributes, else its viewBox. */
function svgSize(svg: string): { width: number; height: number } {
  const open = svg.match(/<svg\b[^>]*>/)![0];
  const attr = (name: string) => Number(open.match(new RegExp(`\\s${name}="([\\d.]+)`))?.[1]);
  const box = open.match(/viewBox="[\d.\-]+ [\d.\-]+ ([\d.]+) ([\d.]+)"/);
  return {
    width: attr("width") || Number(box?.[1]) || 640,
    height: attr("height") || Number(box?.[2]) || 400,
  };
}

/**
 * The PNG copy of a rendered chart (the HTML of `lib/plot.ts`): its main `<svg data-chart>`,
 * as base64 for a MIME bundle; undefined when disabled or when there is no such SVG.
 */
export function chartPngBase64(html: string): string | undefined {
  return chartsPngBase64([html]);
}

/**
 * One PNG of several charts stacked top to bottom (a cell that shows two charts keeps both in
 * its `image/png`), as base64; undefined when disabled or when none holds an SVG.
 */
export function chartsPngBase64(htmls: string[]): string | undefined {
  if (!fontFile) return undefined;
  const svgs = htmls.map(mainSvg).filter((s): s is string => s !== undefined);
  if (svgs.length === 0) return undefined;
  let svg = svgs[0];
  if (svgs.length > 1) {
    const sizes = svgs.map(svgSize);
    const width = Math.max(...sizes.map((s) => s.width));
    let y = 0;
    const parts = svgs.map((s, i) => {
      const placed = s.replace(/^<svg\b/, `<svg x="0" y="${y}"`);
      y += sizes[i].height;
      return placed;
    });
    svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" ` +
      `viewBox="0 0 ${width} ${y}">${parts.join("")}</svg>`;
  }
  // Plot draws with currentColor; resvg has no CSS colour context, so make it black.
  const png = svgToPng(svg.replace(/currentColor/g, "black"));
  if (!png) return undefined;
  let bin = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    bin += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}
