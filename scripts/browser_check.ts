/**
 * Open report pages in a real browser (Debian's headless Chromium, driven over the DevTools
 * protocol with Deno's built-in WebSocket) and check what a reader sees: every chart
 * (`svg[data-chart]`) has a non-zero rendered size and visible data marks, its text is at least
 * {@linkcode MIN_CHART_TEXT_PX} px as drawn, the page does not scroll sideways
 * (`document.documentElement.scrollWidth ≤ innerWidth`), no player or spectrogram is off-screen
 * sideways (also not inside a table's own scroll box), and it fetched no resource at all
 * (everything is inline). Audio: every `<audio>` loads its (data-URI) clip with a finite, non-zero
 * duration, and every spectrogram picture (`img.ql-spectrogram`) decodes and renders with a
 * non-zero size. Optionally takes a full-page screenshot of each page.
 *
 *   deno run -A scripts/browser_check.ts [--width 390] [--screenshots DIR] reports/*.html
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const CHROMIUM = "/usr/bin/chromium";

/** Smallest chart text, in CSS px as drawn after the chart is scaled to the page, that passes. */
export const MIN_CHART_TEXT_PX = 9;

/** What the browser saw on one page. */
export interface BrowserPage {
  file: string;
  /** `minTextPx`: smallest text in the chart as drawn (font size × scale), CSS px; null: none. */
  charts: { width: number; height: number; visibleMarks: number; minTextPx: number | null }[];
  /** Viewport width and the page's scroll width (wider means it scrolls sideways). */
  viewport: number;
  scrollWidth: number;
  /**
   * Players (`<audio>`) and spectrograms outside what is visible without scrolling sideways (the
   * window or a clipping/scrolling ancestor such as a table's own scroll box): must be none.
   */
  offscreen: { tag: string; left: number; right: number; visibleRight: number }[];
  /** The screenshot file, when asked for. */
  screenshot?: string;
  /** URLs the page fetched besides itself (must be none). */
  resources: string[];
  /** Every `<audio>`: its duration once its metadata loaded (NaN/0 when it did not), any error. */
  audio: { duration: number; error: string | null }[];
  /** Every spectrogram picture: decoded size and rendered size. */
  spectrograms: { naturalWidth: number; width: number; height: number }[];
  problems: string[];
}

/** Waits (up to 10 s each) for every `<audio>` to load its metadata, then measures. */
const MEASURE_AUDIO = `(async () => {
  const audio = await Promise.all([...document.querySelectorAll("audio")].map((a) =>
    new Promise((done) => {
      const report = () => done({
        duration: Number.isFinite(a.duration) ? a.duration : 0,
        error: a.error ? "media error " + a.error.code + (a.error.message ? ": " + a.error.message : "") : null,
      });
      if (a.readyState >= 1 || a.error) return report();
      a.addEventListener("loadedmetadata", report, { once: true });
      a.addEventListener("error", report, { once: true });
      setTimeout(report, 10000);
      if (a.preload === "none") a.load();
    })
  ));
  const spectrograms = await Promise.all([...document.querySelectorAll("img.ql-spectrogram")].map(
    async (img) => {
      try { await img.decode(); } catch { /* naturalWidth stays 0 */ }
      const r = img.getBoundingClientRect();
      return { naturalWidth: img.naturalWidth, width: r.width, height: r.height };
    },
  ));
  return JSON.stringify({ audio, spectrograms });
})()`;

const MEASURE = `(() => {
  const charts = [...document.querySelectorAll("svg[data-chart]")].map((svg) => {
    const r = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll("g[aria-label]")]
      .filter((g) => !/axis|grid|frame|tick|label/i.test(g.getAttribute("aria-label")))
      .flatMap((g) => [...g.querySelectorAll("path, circle, rect, line, polygon, polyline")])
      .filter((el) => { const b = el.getBoundingClientRect(); return b.width > 0 || b.height > 0; });
    const scale = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width > 0
      ? r.width / svg.viewBox.baseVal.width : 1;
    const sizes = [...svg.querySelectorAll("text")]
      .filter((t) => t.textContent.trim() !== "" && t.getBoundingClientRect().width > 0)
      .map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
    const minTextPx = sizes.length ? Math.min(...sizes) : null;
    return { width: r.width, height: r.height, visibleMarks: marks.length, minTextPx };
  });
  const resources = performance.getEntriesByType("resource").map((e) => e.name);
  const scrollWidth = document.documentElement.scrollWidth;
  // Players and spectrograms that lie outside what is visible without scrolling sideways: the
  // window, and every ancestor that clips or scrolls horizontally (a table in its own scroll box).
  const offscreen = [...document.querySelectorAll("audio, img.ql-spectrogram")].flatMap((el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return [];
    let left = 0, right = document.documentElement.clientWidth;
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") {
        const b = a.getBoundingClientRect();
        left = Math.max(left, b.left);
        right = Math.min(right, b.left + a.clientWidth);
      }
    }
    return r.left < left - 0.5 || r.right > right + 0.5
      ? [{ tag: el.tagName.toLowerCase(), left: r.left, right: r.right, visibleRight: right }]
      : [];
  });
  // clientWidth excludes a vertical scrollbar, so it is stricter than innerWidth.
  return JSON.stringify({
    charts, resources, viewport: document.documentElement.clientWidth, scrollWidth, offscreen });
})()`;

interface Cdp {
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<unknown>;
  once(method: string, sessionId: string): Promise<unknown>;
  close(): void;
}

function connect(url: string): Promise<Cdp> {
  const ws = new WebSocket(url);
  let next = 0;
  const pending = new Map<number, { ok: (v: unknown) => void; err: (e: Error) => void }>();
  const waiters: { method: string; sessionId: string; ok: (v: unknown) => void }[] = [];
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.err(new Error(`${msg.error.message} (${msg.error.code})`));
      else p?.ok(msg.result);
      return;
    }
    const i = waiters.findIndex((w) => w.method === msg.method && w.sessionId === msg.sessionId);
    if (i >= 0) waiters.splice(i, 1)[0].ok(msg.params);
  };
  const cdp: Cdp = {
    send(method, params = {}, sessionId) {
      const id = ++next;
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      return new Promise((ok, err) => pending.set(id, { ok, err }));
    },
    once(method, sessionId) {
      return new Promise((ok) => waiters.push({ method, sessionId, ok }));
    },
    close: () => ws.close(),
  };
  return new Promise((ok, err) => {
    ws.onopen = () => ok(cdp);
    ws.onerror = (e) => err(new Error(`DevTools WebSocket: ${(e as ErrorEvent).message}`));
  });
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, err) => {
      timer = setTimeout(() => err(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    }),
  ]);
}

/**
 * Chromium processes this module started that still run, with their profile folders, so a
 * caller that is told to stop can end them ({@linkcode killBrowsers}).
 */
const browsers = new Map<Deno.ChildProcess, string>();
/** Set by {@linkcode killBrowsers}: from then on no Chromium is started. */
let killed = false;

/**
 * SIGKILL every Chromium this module started that still runs, wait for each to exit and remove
 * its profile folder; from the call on, starting another one throws. For a caller stopping on a
 * signal (scripts/build_reports.ts): without it a headless Chromium outlives the process that
 * started it.
 */
export async function killBrowsers(): Promise<void> {
  killed = true;
  const all = [...browsers];
  for (const [child] of all) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  await Promise.all(all.map(async ([child, profileDir]) => {
    await child.status.catch(() => {});
    await Deno.remove(profileDir, { recursive: true }).catch(() => {});
  }));
}

/** Start Chromium with a fresh profile and return its DevTools WebSocket URL. */
async function launch(
  profileDir: string,
  extraArgs: string[] = [],
): Promise<{ child: Deno.ChildProcess; ws: string }> {
  if (killed) {
    await Deno.remove(profileDir, { recursive: true }).catch(() => {});
    throw new Error("chromium: not started, killBrowsers() was called (the caller is stopping)");
  }
  const child = new Deno.Command(CHROMIUM, {
    args: [
      ...extraArgs,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profileDir}`,
      "--remote-debugging-port=0",
      "--window-size=1100,900",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  browsers.set(child, profileDir);
  const forget = () => browsers.delete(child);
  child.status.then(forget, forget);
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const ws = await withTimeout(
    (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`chromium exited before DevTools started:\n${seen.slice(-2000)}`);
        seen += value;
        const m = seen.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) return m[1];
      }
    })(),
    30_000,
    "starting chromium",
  );
  // Keep draining stderr so Chromium never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  return { child, ws };
}

/** Options of {@linkcode browserCheck}. */
export interface BrowserOptions {
  /** Viewport width in CSS px (default 1100); the height is 900. */
  width?: number;
  /** Write a full-page PNG of each page here, named `<page>-<width>.png`. */
  screenshots?: string;
}

/**
 * Load each page in one headless Chromium and measure its charts. A page with no chart is
 * reported with `charts: []`; judging that is the caller's business.
 */
export async function browserCheck(
  files: string[],
  opts: BrowserOptions = {},
): Promise<BrowserPage[]> {
  const width = opts.width ?? 1100;
  const profileDir = await Deno.makeTempDir({ prefix: "quantlab-chromium-" });
  const { child, ws } = await launch(profileDir);
  const results: BrowserPage[] = [];
  let cdp: Cdp | undefined;
  try {
    cdp = await connect(ws);
    for (const file of files) {
      const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" }) as {
        targetId: string;
      };
      const { sessionId } = await cdp.send("Target.attachToTarget", {
        targetId,
        flatten: true,
      }) as {
        sessionId: string;
      };
      await cdp.send("Page.enable", {}, sessionId);
      await cdp.send("Emulation.setDeviceMetricsOverride", {
        width,
        height: 900,
        deviceScaleFactor: 1,
        mobile: false,
      }, sessionId);
      const loaded = cdp.once("Page.loadEventFired", sessionId);
      const url = pathToFileURL(resolve(file)).href;
      const nav = await cdp.send("Page.navigate", { url }, sessionId) as { errorText?: string };
      if (nav.errorText) throw new Error(`${file}: navigation failed: ${nav.errorText}`);
      await withTimeout(loaded, 30_000, `loading ${file}`);
      const { result } = await cdp.send(
        "Runtime.evaluate",
        { expression: MEASURE, returnByValue: true },
        sessionId,
      ) as { result: { value: string } };
      const { result: media } = await cdp.send(
        "Runtime.evaluate",
        { expression: MEASURE_AUDIO, returnByValue: true, awaitPromise: true },
        sessionId,
      ) as { result: { value: string } };
      const seen = {
        ...JSON.parse(result.value),
        ...JSON.parse(media.value),
      } as Omit<BrowserPage, "file" | "problems">;
      const problems: string[] = [];
      seen.audio.forEach((a, i) => {
        if (a.error) problems.push(`audio ${i + 1} failed to load: ${a.error}`);
        else if (!(a.duration > 0)) problems.push(`audio ${i + 1} has duration ${a.duration}`);
      });
      seen.spectrograms.forEach((g, i) => {
        if (!(g.naturalWidth > 0 && g.width > 0 && g.height > 0)) {
          problems.push(
            `spectrogram ${i + 1} does not render (decoded width ${g.naturalWidth}, ` +
              `shown ${g.width}×${g.height})`,
          );
        }
      });
      seen.charts.forEach((c, i) => {
        if (!(c.width > 0 && c.height > 0)) {
          problems.push(`chart ${i + 1} renders at ${c.width}×${c.height}`);
        }
        if (c.visibleMarks === 0) problems.push(`chart ${i + 1} shows no data marks`);
        if (c.minTextPx !== null && c.minTextPx < MIN_CHART_TEXT_PX) {
          problems.push(
            `chart ${i + 1} has text drawn at ${c.minTextPx.toFixed(1)} px ` +
              `(< ${MIN_CHART_TEXT_PX} px) in a ${width} px window`,
          );
        }
      });
      if (seen.scrollWidth > seen.viewport) {
        problems.push(
          `the page scrolls sideways: ${seen.scrollWidth} px wide in a ${seen.viewport} px window`,
        );
      }
      if (seen.offscreen.length > 0) {
        const o = seen.offscreen[0];
        problems.push(
          `${seen.offscreen.length} player(s)/spectrogram(s) are off-screen sideways in a ${width} px ` +
            `window (first: <${o.tag}> spans ${Math.round(o.left)}–${Math.round(o.right)} px, ` +
            `visible up to ${Math.round(o.visibleRight)} px)`,
        );
      }
      for (const r of seen.resources) problems.push(`fetched ${r}`);
      let screenshot: string | undefined;
      if (opts.screenshots) {
        const { cssContentSize } = await cdp.send("Page.getLayoutMetrics", {}, sessionId) as {
          cssContentSize: { width: number; height: number };
        };
        const { data } = await cdp.send("Page.captureScreenshot", {
          format: "png",
          captureBeyondViewport: true,
          clip: {
            x: 0,
            y: 0,
            width: Math.max(width, cssContentSize.width),
            height: Math.min(cssContentSize.height, 16000),
            scale: 1,
          },
        }, sessionId) as { data: string };
        screenshot = join(opts.screenshots, `${basename(file, ".html")}-${width}.png`);
        await Deno.writeFile(screenshot, decodeBase64(data));
      }
      results.push({ file, ...seen, problems, screenshot });
      await cdp.send("Target.closeTarget", { targetId });
    }
    await cdp.send("Browser.close").catch(() => {});
  } finally {
    cdp?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(profileDir, { recursive: true }).catch(() => {});
  }
  return results;
}

/**
 * Open `url` in headless Chromium (media may play without a click), wait until `ready` (a JS
 * expression) is true, then evaluate `script` (a JS expression, awaited) and return its value
 * (JSON-serialisable). For checks that need a live page, e.g. a player inside Jupyter.
 */
export async function inPage<T>(
  url: string,
  ready: string,
  script: string,
  opts: { width?: number; timeoutMs?: number } = {},
): Promise<T> {
  const profileDir = await Deno.makeTempDir({ prefix: "quantlab-chromium-" });
  const { child, ws } = await launch(profileDir, ["--autoplay-policy=no-user-gesture-required"]);
  let cdp: Cdp | undefined;
  try {
    cdp = await connect(ws);
    const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" }) as {
      targetId: string;
    };
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    };
    await cdp.send("Emulation.setDeviceMetricsOverride", {
      width: opts.width ?? 1100,
      height: 900,
      deviceScaleFactor: 1,
      mobile: false,
    }, sessionId);
    await cdp.send("Page.navigate", { url }, sessionId);
    const evaluate = async (expression: string) => {
      const { result, exceptionDetails } = await cdp!.send(
        "Runtime.evaluate",
        { expression, returnByValue: true, awaitPromise: true },
        sessionId,
      ) as { result: { value: unknown }; exceptionDetails?: { text: string } };
      if (exceptionDetails) throw new Error(`in page: ${exceptionDetails.text}`);
      return result.value;
    };
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    while (!(await evaluate(`Boolean(${ready})`).catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${url}: never ready: ${ready}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return await evaluate(script) as T;
  } finally {
    await cdp?.send("Browser.close").catch(() => {});
    cdp?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(profileDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { width: { type: "string" }, screenshots: { type: "string" } },
    allowPositionals: true,
  });
  if (values.screenshots) await Deno.mkdir(values.screenshots, { recursive: true });
  const pages = await browserCheck(positionals, {
    width: values.width ? Number(values.width) : undefined,
    screenshots: values.screenshots,
  });
  let bad = 0;
  for (const p of pages) {
    const sizes = p.charts.map((c) => `${Math.round(c.width)}×${Math.round(c.height)}`).join(" ");
    const media = p.audio.length || p.spectrograms.length
      ? `, ${p.audio.length} audio, ${p.spectrograms.length} spectrogram(s)`
      : "";
    console.log(
      `${p.file}: ${p.charts.length} chart(s) ${sizes}${media}; ${p.scrollWidth}/${p.viewport} px wide` +
        (p.screenshot ? `; ${p.screenshot}` : ""),
    );
    for (const problem of p.problems) console.log(`  FAILED ${problem}`);
    bad += p.problems.length;
  }
  Deno.exit(bad ? 1 : 0);
}
