/**
 * The anchors of notebooks 08 and 09: the real codecs and the PCA transform code
 * (`lib/audio/anchors.ts`) on the PostRVQ pipeline's held-out segments, scored with the same
 * scorecard as the learned systems and stored in the same result store.
 *
 * @module
 */
import { ANCHOR_PCA_SEGMENTS, anchorSystems } from "../audio/anchors.ts";
import { scoreSegments } from "../audio/score.ts";
import { LADDER } from "../quantizers/offline/mod.ts";
import { BASE_PCA_FRAME } from "./base_model.ts";
import { JOB, type PipelineContext, storedSystem, type SystemResult } from "./postrvq_context.ts";

/**
 * Which anchors the notebooks show. [choice: the list, and the PCA code of the base model's
 * linear path at initialisation, 64-sample frames]
 */
export const ANCHOR_NAMES = [
  "Codec2 3200",
  "Codec2 2400",
  "Codec2 1600",
  "Codec2 700C",
  "Opus 6000",
  "PCA (continuous)",
  `PCA ${BASE_PCA_FRAME} (continuous)`,
  ...LADDER.map((r) => `PCA + scalar ${r.bitsPerFrame * 62.5}`),
] as const;

/**
 * The real codecs and the PCA transform code (`lib/audio/anchors.ts`) on the same held-out
 * segments, scored with the same scorecard; cached in the result store like the learned systems.
 * The PCA basis and its scalar quantizers are fitted on {@linkcode ANCHOR_PCA_SEGMENTS}
 * training-split segments (`trainBatch(-3, …)`, as `./quantlab speech-anchors`).
 */
export async function anchorResults(ctx: PipelineContext): Promise<SystemResult[]> {
  const training = ctx.source.trainBatch(-3, ANCHOR_PCA_SEGMENTS).x;
  const { count, length, x } = ctx.source.validation;
  const out: SystemResult[] = [];
  for (const system of anchorSystems(training, { continuousPcaFrames: [BASE_PCA_FRAME] })) {
    if (!(ANCHOR_NAMES as readonly string[]).includes(system.name)) continue;
    let decoded: Float32Array | null = null;
    const decode = async () => {
      decoded = new Float32Array(x.length);
      for (let i = 0; i < count; i++) {
        decoded.set(await system.code(x.slice(i * length, (i + 1) * length)), i * length);
      }
      return decoded;
    };
    const got = await storedSystem(
      ctx,
      // The PCA anchors' key names the fit size (the codecs' keys are unchanged).
      `${JOB}#anchor/${system.name}` +
        (system.name.startsWith("PCA") ? `/fit${ANCHOR_PCA_SEGMENTS}` : ""),
      async () => ({
        scores: scoreSegments(await decode(), x, count, length, ctx.sampleRate),
        metrics: {},
      }),
      // Clips from the evaluation's decoding, or (evaluation read from the store) just theirs.
      () =>
        Promise.all(ctx.listen.map(async (i) => {
          const at = [i * length, (i + 1) * length] as const;
          return decoded ? decoded.slice(...at) : await system.code(x.slice(...at));
        })),
    );
    out.push({
      label: system.name,
      role: "anchor",
      bps: system.bitsPerSecond,
      scores: got.evaluation.scores,
      latentMse: 0,
      usage: [],
      clips: got.clips,
      computed: got.computed,
    });
  }
  return out;
}

/** The anchor nearest in bit rate to `bps` among those whose name starts with `prefix`. */
export function nearestAnchor(
  anchors: SystemResult[],
  prefix: string,
  bps: number,
): SystemResult {
  const candidates = anchors.filter((a) => a.label.startsWith(prefix) && a.bps > 0);
  if (!candidates.length) throw new Error(`nearestAnchor: no anchor named "${prefix}…"`);
  return candidates.reduce((best, a) =>
    Math.abs(a.bps - bps) < Math.abs(best.bps - bps) ? a : best
  );
}
