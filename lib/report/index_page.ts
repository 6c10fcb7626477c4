/**
 * The index page of a report: what quantlab is, the terms every page uses, every notebook page
 * with its verdicts, compute and build time, and every finding. The pages themselves, their
 * header and shell are `notebook.ts`.
 *
 * @module
 */
import { type Finding, formatMeasured, VERDICTS } from "./findings.ts";
import { escapeHtml } from "./html.ts";
import {
  commitText,
  computeText,
  computeTotal,
  formatDuration,
  type Page,
  pageDocument,
  runHeader,
  type RunMeta,
} from "./notebook.ts";
import { formatInterval } from "../stats.ts";

/** Build-wide metadata for the index page. */
export interface IndexMeta extends RunMeta {
  profile: string;
  /** Wall time of the whole build, seconds. */
  wallSeconds: number;
  deno: string;
}

function badge(v: string): string {
  return `<span class="ql-badge ql-${v.replace(/ /g, "-")}">${escapeHtml(v)}</span>`;
}

/** What quantlab is, for a researcher arriving at the index. */
const INTRO = `<p>quantlab is a test bed for one question about neural audio codecs: what does the
quantizer between encoder and decoder do to training? It trains small encoder → quantizer →
decoder models on simulated signals whose information content is known exactly, so an error
floor that is reached or missed can be read off directly; checks the same claims with a small
DAC-style convolutional codec on real 8 kHz speech; quantizes a trained continuous codec after
training and compares quantizers on its one latent; and judges a researcher's own gradient passer
or quantizer against every baseline (the battery). The claims come from two papers: [paper A]
Mack et al., <em>Efficient Evaluation of Quantization-Effects in Neural Codecs</em> (2025), and
[paper B] Lahrichi et al., <em>Challenging Common Practices in Vector Quantized Neural Audio
Compression</em>.</p>
<p>Each page below is one notebook, executed as it stands; every verdict is computed from its
runs. Settings marked [choice] are ours where the papers say nothing.</p>`;

/** The abbreviations every page uses. */
const GLOSSARY: [string, string][] = [
  [
    "STE",
    "straight-through estimator: the forward pass uses the quantized value Q(e), the backward " +
    "pass treats the quantizer as the identity.",
  ],
  [
    "mSTE",
    "modified STE [paper A]: the quantization noise is scaled by σ_E, the standard deviation " +
    "of the encoder output, so the gradient also acts on that scale.",
  ],
  [
    "CL",
    "commitment loss β‖e − sg(Q(e))‖², which pulls the encoder output e towards its code " +
    "(β = 0.25, as in DAC; sg = stop-gradient).",
  ],
  [
    "MA-E",
    "the largest absolute encoder output over the validation set; when it grows without bound, " +
    "training diverges.",
  ],
  [
    "B, B_q",
    "the bits per frame the simulated source carries (B) and the bits the quantizer can send " +
    "(B_q); with B_q < B an error floor is unavoidable.",
  ],
  [
    "NA",
    "noise approximation: during training the quantizer is replaced by additive uniform noise " +
    "of the same power; attached NA ties the noise scale to σ_E in the graph, detached NA " +
    "does not.",
  ],
  [
    "verdicts",
    "a claim that compares two configurations (an MSE claim) is decided by one paired rule: " +
    "per seed the difference of the mean validation MSE over the last epochs, its mean with a " +
    "95 % paired t interval (a sign test when a run diverged); reproduced when the interval " +
    "excludes 0 on the claimed side, not reproduced when it excludes 0 on the other side, " +
    "inconclusive when it contains 0. Any other claim (one that holds or not per seed or per " +
    "budget, e.g. a divergence): reproduced when it holds in every seed, partially reproduced " +
    "in some, not reproduced in none, inconclusive when the data cannot decide.",
  ],
];

/** The index page: what quantlab is, a glossary, every page with its verdicts, all findings. */
export function renderIndex(pages: Page[], findings: Finding[], meta: IndexMeta): string {
  const fileOf = new Map(pages.map((p) => [p.notebook, p.file]));
  const pageRows = pages.map((p) => {
    const counts = VERDICTS.map((v) => [v, p.findings.filter((f) => f.verdict === v).length])
      .filter(([, n]) => n)
      .map(([v, n]) => `${badge(v as string)}${(n as number) > 1 ? ` ×${n}` : ""}`).join(" ");
    const { seconds, runs } = computeTotal(p.compute);
    const compute = runs > 0 ? formatDuration(seconds) : "—";
    const build = p.execution ? formatDuration(p.execution.wall_seconds) : "—";
    return `<tr><td data-label="page"><a href="${escapeHtml(p.file)}">${
      escapeHtml(p.title)
    }</a><br>` +
      `<span class="ql-ref">${escapeHtml(p.notebook)}</span></td><td data-label="summary">${
        escapeHtml(p.summary)
      }</td><td class="ql-first" data-label="verdicts">${counts}</td><td class="num" ` +
      `data-label="compute">${compute}</td><td class="num" data-label="build">${build}</td></tr>`;
  }).join("\n");
  // Findings are shown even when malformed (the checks report them): never throw here.
  const findingRows = findings.map((f) =>
    `<tr><td data-label="id">${escapeHtml(String(f.id))}</td><td data-label="claim">${
      escapeHtml(String(f.claim ?? ""))
    }</td><td data-label="measured">${
      escapeHtml(f.measured === undefined ? "—" : formatMeasured(f.measured))
    }${
      f.stats
        ? `<br><span class="ql-ref">paired: ${escapeHtml(formatInterval(f.stats))}</span>`
        : ""
    }</td><td class="ql-first" data-label="verdict">${
      badge(String(f.verdict))
    }</td><td data-label="notebook"><a href="${
      escapeHtml(fileOf.get(f.notebook) ?? "index.html")
    }">${escapeHtml(f.notebook.replace(/\.ipynb$/, ""))}</a></td></tr>`
  ).join("\n");
  const allRuns: Record<string, number> = Object.assign({}, ...pages.map((p) => p.compute));
  const header = runHeader([
    ["commit", commitText(meta.commit)],
    ["built", meta.date],
    ["profile", meta.profile],
    ["Deno", meta.deno],
    ["compute time", computeText(allRuns) + " (a run shown on two pages counts once)"],
    [
      "build time",
      `${formatDuration(meta.wallSeconds)} to execute the notebooks in this build (runs already ` +
      "stored are read, not recomputed)",
    ],
  ]);
  const glossary = `<dl class="ql-glossary">${
    GLOSSARY.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")
  }</dl>`;
  const body = `<!-- Generated by ./quantlab reports from the notebooks in notebooks/; ` +
    `rebuild rather than edit. -->
<h1>quantlab reports</h1>
${INTRO}
${header}
<h2>Terms</h2>
${glossary}
<h2>Notebooks</h2>
<table class="ql-cards"><thead><tr><th>page</th><th>summary</th><th>verdicts</th>` +
    `<th class="num">compute</th>` +
    `<th class="num">build</th></tr></thead>
<tbody>
${pageRows}
</tbody></table>
<p class="ql-ref">compute: training time of the page's runs when they were computed (stored
results); build: time to execute the notebook for this build, mostly reading cached runs.</p>
<h2>Findings</h2>
<p>The same verdicts, machine-readable: <a href="findings.json">findings.json</a>.</p>
${
      findings.length === 0
        ? "<p>No findings were emitted.</p>"
        : `<table class="ql-cards"><thead><tr><th>id</th>` +
          `<th>claim</th><th>measured</th><th>verdict</th><th>notebook</th></tr></thead><tbody>
${findingRows}
</tbody></table>`
    }`;
  return pageDocument("quantlab reports", body);
}
