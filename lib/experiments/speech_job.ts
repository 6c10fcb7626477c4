/**
 * The grid job of notebook 07: train a speech run as `lib/train.ts#train` does, then, unless it
 * diverged, decode the listening utterances with the trained codec and keep them (with the
 * originals) in the artefact store under the run's own key, so the page's listening table comes
 * from the trained runs and a cached re-run needs no retraining.
 *
 * @module
 */
import { tf } from "../backend.ts";
import type { RunConfig } from "../config.ts";
import { keyGemm, resultKey } from "../grid/key.ts";
import { expectedGemmIdentity } from "../kernels/blas.ts";
import type { RunResult } from "../result.ts";
import type { SpeechSource } from "../sources/speech.ts";
import { type Artifact, ArtifactStore } from "../store/artifacts.ts";
import { foldFrames, unfoldFrames } from "../codecs/mod.ts";
import { loadCustomKinds } from "../custom/mod.ts";
import { type Session, train, type TrainOptions } from "../train.ts";

/** This job's reference for the grid (part of every cache key of its runs). */
export const SPEECH_JOB = "lib/experiments/speech_job.ts#trainSpeech";

/** How many listening utterances a run keeps (the page shows up to this many). [choice] */
export const LISTEN_MAX = 6;

/** The artefact key of a run's listening utterances (the run's result key, GEMM included). */
export function listeningKey(config: RunConfig): string {
  return `speech-listen-${
    resultKey(config, SPEECH_JOB, undefined, keyGemm(expectedGemmIdentity()))
  }`;
}

/**
 * Which validation segments to listen to: the first segment of each validation speaker, speakers
 * in order of first appearance, at most `n`, skipping segments that are nearly silent (RMS below
 * −50 dBFS). Deterministic in the validation set. [choice]
 */
export function listeningPicks(source: SpeechSource, n: number = LISTEN_MAX): number[] {
  const { x, count, length } = source.validation;
  const seen = new Set<string>();
  const picks: number[] = [];
  for (let i = 0; i < count && picks.length < n; i++) {
    const speaker = source.validationSources[i].speaker;
    if (seen.has(speaker)) continue;
    let e = 0;
    for (let t = i * length; t < (i + 1) * length; t++) e += x[t] * x[t];
    if (10 * Math.log10(e / length + 1e-30) < -50) continue;
    seen.add(speaker);
    picks.push(i);
  }
  return picks;
}

/** Decode the picked validation segments through the trained codec with the hard quantizer. */
export function decodeListening(session: Session): Artifact {
  const source = session.source as SpeechSource;
  const picks = listeningPicks(source);
  const { x, length } = source.validation;
  const original = new Float32Array(picks.length * length);
  picks.forEach((p, i) => original.set(x.subarray(p * length, (p + 1) * length), i * length));
  const decoded = tf.tidy(() => {
    const e = session.codec.encode(tf.tensor2d(original, [picks.length, length]));
    const q = session.quantizer.quantize(session.quantizer.prepare(foldFrames(e))).q;
    return session.codec.decode(unfoldFrames(q, e.shape));
  });
  const data = Float32Array.from(decoded.dataSync());
  decoded.dispose();
  return {
    meta: {
      sampleRate: source.sampleRate,
      picks,
      speakers: picks.map((p) => source.validationSources[p].speaker),
      files: picks.map((p) => source.validationSources[p].file),
      step: session.stepCount,
    },
    tensors: {
      original: { shape: [picks.length, length], data: original },
      decoded: { shape: [picks.length, length], data },
    },
  };
}

/**
 * Train, and keep the listening utterances of a run that did not diverge (see the module doc).
 * A researcher's passer (the battery's `--speech` check) is loaded first and trained with.
 */
export async function trainSpeech(
  config: RunConfig,
  options: TrainOptions = {},
): Promise<RunResult> {
  const custom = await loadCustomKinds(config);
  let artifact: Artifact | null = null;
  const result = await train(config, {
    ...options,
    custom,
    onFinished: (session, diverged) => {
      if (!diverged) artifact = decodeListening(session);
    },
  });
  if (artifact) await new ArtifactStore().putKeyed(listeningKey(config), artifact);
  return result;
}
