import assert from "node:assert/strict";
import { listeningTable, MAX_UTTERANCES, PLAYER_SIZE } from "./listening.ts";

const tone = (a: number) => Float32Array.from({ length: 4000 }, (_, i) => a * Math.sin(i / 4));

const input = () => ({
  systems: [
    {
      name: "Codec2 1600",
      role: "anchor" as const,
      clips: [tone(0.1), tone(0.1), tone(0.1)],
      bitsPerSecond: 1600,
    },
    {
      name: "PostRVQ 1500",
      role: "ours" as const,
      clips: [tone(0.05), null, tone(0.1)],
      bitsPerSecond: 1500,
    },
    { name: "original", role: "reference" as const, clips: [tone(0.1), tone(0.1), tone(0.1)] },
  ],
  utterances: [
    { label: "one", speaker: "speaker A" },
    { label: "two", speaker: "speaker B" },
    { label: "three", speaker: "speaker C" },
  ],
  sampleRate: 8000,
  caption: "Listen for the pitch.",
});

Deno.test("listening table: a row per system (reference, ours, anchors), a column per utterance, px-sized players", () => {
  const html = listeningTable(input()).html;
  const rows = html.match(/<tr>/g)!.length;
  assert.equal(rows, 1 + 3, "a header row and one row per system");
  const order = ["original", "PostRVQ 1500", "Codec2 1600"].map((n) => html.indexOf(`>${n}<br>`));
  assert.ok(order.every((i) => i > 0) && order[0] < order[1] && order[1] < order[2], `${order}`);
  assert.equal(html.match(/<audio /g)!.length, 8, "one player per clip, none for a missing one");
  assert.ok(PLAYER_SIZE.width >= 150 && PLAYER_SIZE.height >= 40);
  for (const style of html.match(/<audio[^>]*style="([^"]*)"/g)!) {
    assert.match(style, new RegExp(`width:${PLAYER_SIZE.width}px`));
    assert.match(style, new RegExp(`height:${PLAYER_SIZE.height}px`));
    assert.doesNotMatch(style, /rem/);
  }
  assert.match(html, /Listen for the pitch\./);
  for (const s of ["speaker A", "speaker B", "speaker C"]) assert.match(html, new RegExp(s));
  // Levels: the original's in dBFS, the others relative to it (−6.0 dB at half the amplitude).
  assert.match(html, /level −23\.0 dBFS/); // 0.1 sin: RMS 0.0707
  assert.match(html, /level −6\.0 dB vs original/);
  assert.match(html, /level \+0\.0 dB vs original/);
  assert.match(html, /1600 bit\/s/);
});

Deno.test("listening table fits 1280 px: fixed pixel widths, at most MAX_UTTERANCES columns", () => {
  const x = input();
  const html = listeningTable(x).html;
  const widths = [...html.matchAll(/<th style="width:(\d+)px/g)].map((m) => Number(m[1]));
  assert.equal(widths.length, 1 + 3);
  const full = widths[0] + MAX_UTTERANCES * widths[1];
  assert.ok(full <= 1280, `${full} px`);
  const many = {
    ...x,
    utterances: Array.from({ length: MAX_UTTERANCES + 1 }, () => x.utterances[0]),
  };
  assert.throws(() => listeningTable(many), /do not fit 1280 px/);
});

Deno.test("listening table refuses a row with the wrong number of clips, naming the system", () => {
  const x = input();
  x.systems[1].clips = [tone(0.1)];
  assert.throws(() => listeningTable(x), /system "PostRVQ 1500" has 1 clips for 3 utterances/);
});
