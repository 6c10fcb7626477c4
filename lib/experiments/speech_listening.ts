/**
 * Notebook 07's listening table: the clips of one set-up (the held-out originals, the continuous
 * reference's and each passer's reconstruction, read from the artefact store where the runs kept
 * them) beside real codecs as anchors, in the shared `lib/report/listening.ts` layout.
 *
 * @module
 */
import type { Display } from "../display.ts";
import { listeningTable } from "../report/listening.ts";
import { codec2RoundTrip, opusRoundTrip } from "../audio/anchors.ts";
import { ArtifactStore } from "../store/artifacts.ts";
import { listeningKey } from "./speech_job.ts";
import { groupBitsPerSecond } from "./speech_measures.ts";
import {
  find,
  groupsOfSetup,
  referenceGroup,
  type Setup,
  SETUPS,
  type SpeechExperiment,
  type SpeechGroup,
} from "./speech.ts";

/** One system of {@linkcode ListeningClips}: a row of the shared listening table. */
export interface ListeningSystemClips {
  name: string;
  role: "reference" | "ours";
  /** One clip per utterance (null: that run diverged or kept none). */
  clips: (Float32Array | null)[];
  /** Bit rate (0: continuous or the original). */
  bitsPerSecond: number;
}

/** What the shared listening table (`lib/report/listening.ts`) needs from notebook 07. */
export interface ListeningClips {
  sampleRate: number;
  /** The columns: which held-out utterance and who says it. */
  utterances: { label: string; speaker: string }[];
  /** The original, the continuous reference, then each passer of the set-up. */
  systems: ListeningSystemClips[];
}

/**
 * The clips of one set-up's listening table: the held-out utterances (the first non-silent
 * validation segment of each held-out speaker, `speech_job.ts`'s `listeningPicks`, each one
 * validation segment long) as the original, the continuous reference's reconstruction and each
 * passer's (seed `seed`'s run, decoded with the hard quantizer when it was trained and kept in
 * the artefact store under its key). A passer whose run diverged has null clips.
 */
export async function listeningClips(
  x: SpeechExperiment,
  setup: Setup["id"],
  seed = x.profile.speech.seeds[0],
): Promise<ListeningClips> {
  const store = new ArtifactStore();
  const groups = [referenceGroup(x), ...groupsOfSetup(x, setup)];
  const runOf = (g: SpeechGroup) => g.runs.find((r) => r.config.train.seed === seed);
  const artifacts = await Promise.all(groups.map((g) => {
    const r = runOf(g);
    return r && !r.diverged ? store.getKeyed(listeningKey(r.config)) : Promise.resolve(null);
  }));
  const missing = groups.filter((g, i) => runOf(g) && !runOf(g)!.diverged && !artifacts[i]);
  if (missing.length) {
    throw new Error(
      `listeningClips(${setup}): no stored reconstructions for ${
        missing.map((g) => g.label).join(", ")
      }: recompute those runs (QUANTLAB_RECOMPUTE=1)`,
    );
  }
  const first = artifacts.find((a) => a !== null);
  if (!first) throw new Error(`listeningClips(${setup}): every run of seed ${seed} diverged`);
  const meta = first.meta as { sampleRate: number; speakers: string[]; files: string[] };
  const [n, length] = first.tensors.original.shape;
  const count = Math.min(n, x.profile.speech.listen);
  const slice = (t: { data: ArrayLike<number> } | undefined, i: number) =>
    t ? Float32Array.from((t.data as Float32Array).subarray(i * length, (i + 1) * length)) : null;
  const clipsOf = (a: typeof first | null) =>
    Array.from({ length: count }, (_, i) => slice(a?.tensors.decoded, i));
  return {
    sampleRate: meta.sampleRate,
    utterances: Array.from({ length: count }, (_, i) => ({
      label: meta.files[i].split("/").at(-1)!,
      speaker: meta.speakers[i],
    })),
    systems: [
      {
        name: "original",
        role: "reference",
        clips: Array.from({ length: count }, (_, i) => slice(first.tensors.original, i)),
        bitsPerSecond: 0,
      },
      ...groups.map((g, i) => ({
        name: g.label,
        role: (g.setup.id === "continuous" ? "reference" : "ours") as "reference" | "ours",
        clips: clipsOf(artifacts[i]),
        bitsPerSecond: groupBitsPerSecond(g),
      })),
    ],
  };
}

/**
 * The anchors of 07's listening table: the real codecs nearest the rung's rate (Codec2 2400 at
 * 2500 bit/s) and Opus 6000, run on the same clips. [choice: the PCA code is 08's and 09's
 * anchor; here the question is what real codecs sound like at this rate]
 */
export const LISTENING_ANCHORS: {
  name: string;
  bitsPerSecond: number;
  code: (x: Float32Array) => Promise<Float32Array>;
}[] = [
  {
    name: "Codec2 2400",
    bitsPerSecond: 2400,
    code: async (x) => (await codec2RoundTrip(x, "2400")).audio,
  },
  {
    name: "Opus 6000",
    bitsPerSecond: 6000,
    code: async (x) => (await opusRoundTrip(x, 6000)).audio,
  },
];

/**
 * The listening table of one set-up (the shared `lib/report/listening.ts` layout): rows = the
 * original, the continuous reference, each passer (seed 0) and the real-codec anchors
 * ({@linkcode LISTENING_ANCHORS}), columns = held-out utterances.
 */
export async function listening(x: SpeechExperiment, setup: Setup["id"]): Promise<Display> {
  const clips = await listeningClips(x, setup);
  const label = SETUPS.find((s) => s.id === setup)!.label;
  const original = clips.systems[0].clips;
  const anchors = [];
  for (const a of LISTENING_ANCHORS) {
    const coded = [];
    for (const c of original) coded.push(c ? await a.code(c) : null);
    anchors.push({
      name: a.name,
      role: "anchor" as const,
      clips: coded,
      bitsPerSecond: a.bitsPerSecond,
    });
  }
  return listeningTable({
    sampleRate: clips.sampleRate,
    systems: [...clips.systems, ...anchors],
    utterances: clips.utterances,
    caption:
      `${label}: held-out utterances, the continuous reference, each passer's reconstruction ` +
      `(seed ${x.profile.speech.seeds[0]}, hard quantizer, ${
        groupBitsPerSecond(find(x, setup, "ste"))
      } bit/s) and real codecs at nearby rates. Listen for the pitch: which rows keep the ` +
      `voice's melody, and which only its envelope?`,
  });
}
