import assert from "node:assert/strict";
import {
  escapeHtml,
  formatNumber,
  renderMarkdown,
  sanitizeHtml,
  stripAnsi,
  STYLESHEET,
} from "./html.ts";
import { VERDICT_COLOURS, verdictClass, VERDICTS } from "./verdicts.ts";

Deno.test("escapeHtml escapes markup and quotes", () => {
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;",
  );
});

Deno.test("formatNumber reads like a researcher writes", () => {
  assert.equal(formatNumber(8), "8");
  assert.equal(formatNumber(0.012345678), "0.01235");
  assert.equal(formatNumber(0.00012), "1.20e-4");
  assert.equal(formatNumber(123456.7), "1.23e+5");
  assert.equal(formatNumber(NaN), "—");
  assert.equal(formatNumber(null), "—");
  assert.equal(formatNumber(-Infinity), "−∞");
});

Deno.test("markdown links become offline references, images only from data:", () => {
  const h = renderMarkdown(
    "See [paper A](https://arxiv.org/abs/1234) and <https://x.org/y>. ![p](http://a/b.png)",
  );
  assert.ok(!/https?:|href=|src=/.test(h), h);
  assert.match(h, /paper A <span class="ql-ref">\(arxiv\.org\/abs\/1234\)<\/span>/);
  assert.match(h, /x\.org\/y/);
  assert.match(h, /\[image: p\]/);
  assert.match(renderMarkdown("[up](#top)"), /<a href="#top">up<\/a>/);
});

Deno.test("sanitizeHtml removes scripts and external references but keeps xmlns and data:", () => {
  const dirty = `<script>alert(1)</script><link rel="stylesheet" href="https://cdn/x.css">` +
    `<img src="https://x/y.png" onerror="boom()"><img src="data:image/png;base64,AA==">` +
    `<svg xmlns="http://www.w3.org/2000/svg"><use href="#clip"/></svg>` +
    `<div style="background:url(http://x/y.png)">see http://example.org and file:///root/lib/a.ts</div>` +
    `<a href="file:///etc/passwd">f</a><style>@import "https://f/font.css";</style>`;
  const { html, removed } = sanitizeHtml(dirty, "/root");
  assert.ok(!/<script|<link|onerror|https?:\/\/(?!www\.w3\.org)|file:|@import/.test(html), html);
  assert.match(html, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(html, /src="data:image\/png;base64,AA=="/);
  assert.match(html, /href="#clip"/);
  assert.match(html, /see example\.org and lib\/a\.ts/);
  assert.ok(removed.length >= 7, removed.join("; "));
});

Deno.test("stripAnsi removes colour codes", () => {
  assert.equal(stripAnsi("\x1b[31mError\x1b[0m: x"), "Error: x");
});

Deno.test("the stylesheet colours every verdict with the one shared colour table", () => {
  for (const v of VERDICTS) {
    assert.ok(
      STYLESHEET.includes(`.${verdictClass(v)} { border-color: ${VERDICT_COLOURS[v]}; }`),
      `${v} border`,
    );
    assert.ok(
      STYLESHEET.includes(`.ql-badge.${verdictClass(v)} { background: ${VERDICT_COLOURS[v]}; }`),
      `${v} badge`,
    );
  }
});
