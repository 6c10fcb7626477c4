/**
 * The conv codec's linear path [choice, not DAC's]: a linear analysis filter bank A
 * (Conv1d(1 → D, k = K_l, stride Πs)) and its synthesis bank S (ConvTranspose1d(D → 1, same k and
 * stride)), initialised from the principal components of training frames, with the conv stacks
 * added through learned scalar gates (the formulas and why are in `conv.ts`'s module doc). Kept
 * apart from `conv.ts` so each module stays readable.
 *
 * The PCA frame F (`pcaFrame`, default Πs) may be a divisor of the hop: the banks then hold the
 * PCA of F-sample frames for each of the Πs/F sub-frames of a hop, D·F/Πs components each (block
 * diagonal; F = 64 at Πs = 128, D = 32 is the PCA code of 64-sample frames keeping 16). The same
 * latent rate, a coarser frequency resolution: a 128-sample basis resolves, and so leaves out,
 * bands the training speakers lack (`base_model.ts`'s module doc gives the measurement).
 *
 * @module
 */
import { tf } from "../backend.ts";
import { ConfigError } from "../kinds.ts";
import { principalComponents } from "../cluster/pca.ts";

/** The linear analysis/synthesis path of `ConvCodecConfig.linearPath`. [choice] */
export interface LinearPathConfig {
  /** Filter length K_l: Πstrides (block PCA) or more (lapped; K_l − Πstrides even). */
  kernel: number;
  /** Initial value of the gates g_e, g_d of the conv stacks (0: the codec starts as the PCA code). */
  gateInit: number;
  /** Training segments whose frames the PCA is computed on. */
  pcaSegments: number;
  /**
   * How fast the banks move: each bank is B₀ + s·Δ with B₀ the PCA initialisation (fixed) and Δ
   * trained from 0, so Adam's steps on it are s times smaller; 0 freezes the banks. Adam's
   * per-weight steps of ~lr would otherwise scramble the PCA filters (unit vectors of 0.09 per
   * tap) within a few hundred steps. [choice]
   */
  trainScale: number;
  /**
   * Samples per PCA frame: Πstrides (default) or a divisor of it such that Πstrides/pcaFrame
   * divides the latent dimension (module doc).
   */
  pcaFrame?: number;
}

/** Where the linear path's variables are created (the conv codec's seeded builders). */
export interface VariableMaker {
  variable(t: tf.Tensor, trainable?: boolean): tf.Variable;
}

/** The convolutions the banks run on (`conv.ts`'s `ConvOps`). */
export interface LinearOps {
  conv1d(x: tf.Tensor3D, w: tf.Tensor3D, opts: { stride?: number; padding?: number }): tf.Tensor3D;
  convTranspose1d(
    x: tf.Tensor3D,
    w: tf.Tensor3D,
    opts: { stride: number; padding: number },
  ): tf.Tensor3D;
}

const FIELDS = ["kernel", "gateInit", "pcaSegments", "trainScale", "pcaFrame"];

/**
 * Throw a {@linkcode ConfigError} naming the first bad field of `codec.linearPath` (hop `hop`,
 * latent dimension `d`).
 */
export function validateLinearPath(l: LinearPathConfig, hop: number, d: number): void {
  if (l === null || typeof l !== "object" || Array.isArray(l)) {
    throw new ConfigError(
      "codec.linearPath",
      l,
      "an object {kernel, gateInit, pcaSegments, trainScale, pcaFrame?}",
    );
  }
  for (const key of Object.keys(l)) {
    if (!FIELDS.includes(key)) {
      throw new ConfigError(
        `codec.linearPath.${key}`,
        (l as unknown as Record<string, unknown>)[key],
        `no such field; allowed: ${FIELDS.join(", ")}`,
      );
    }
  }
  if (
    !Number.isInteger(l.kernel) || l.kernel < hop || l.kernel > 16 * hop ||
    (l.kernel - hop) % 2 !== 0
  ) {
    throw new ConfigError(
      "codec.linearPath.kernel",
      l.kernel,
      `an integer in [Πcodec.strides = ${hop}, ${16 * hop}] with kernel − ${hop} even`,
    );
  }
  if (!(typeof l.gateInit === "number" && Number.isFinite(l.gateInit))) {
    throw new ConfigError("codec.linearPath.gateInit", l.gateInit, "a finite number");
  }
  if (!Number.isInteger(l.pcaSegments) || l.pcaSegments < 1 || l.pcaSegments > 1 << 16) {
    throw new ConfigError(
      "codec.linearPath.pcaSegments",
      l.pcaSegments,
      `an integer in [1, ${1 << 16}]`,
    );
  }
  if (!(typeof l.trainScale === "number" && l.trainScale >= 0 && l.trainScale <= 1)) {
    throw new ConfigError("codec.linearPath.trainScale", l.trainScale, "a number in [0, 1]");
  }
  const frame = l.pcaFrame ?? hop;
  if (!Number.isInteger(frame) || frame < 1 || hop % frame !== 0 || d % (hop / frame) !== 0) {
    throw new ConfigError(
      "codec.linearPath.pcaFrame",
      l.pcaFrame,
      `a divisor of Πcodec.strides = ${hop} whose quotient divides codec.latentDim = ${d}`,
    );
  }
}

/**
 * The linear analysis bank A (in the encoder's builder) and, via `synthesis`, its synthesis bank
 * S (in the decoder's), with the gates of the conv stacks; `initialization` sets both banks from
 * the principal components of training frames (module doc). Variables: A, its bias, g_e in the
 * encoder; S, its bias, g_d in the decoder.
 */
export function linearBanks(
  hop: number,
  d: number,
  l: LinearPathConfig,
  enc: VariableMaker,
  ops: LinearOps,
) {
  const padding = (l.kernel - hop) / 2;
  const analysis = bank(enc, [l.kernel, 1, d], l.trainScale);
  const analysisBias = enc.variable(tf.zeros([d]));
  const encoderGate = enc.variable(tf.scalar(l.gateInit));
  let synthesisBank: Bank | null = null;
  return {
    encode(x: tf.Tensor3D, conv: tf.Tensor3D): tf.Tensor3D {
      const w = analysis.value();
      const linear = tf.add(ops.conv1d(x, w, { stride: hop, padding }), analysisBias);
      return tf.add(linear, tf.mul(conv, encoderGate)) as tf.Tensor3D;
    },
    synthesis(dec: VariableMaker): (z: tf.Tensor3D, conv: tf.Tensor3D) => tf.Tensor3D {
      const synthesis = bank(dec, [l.kernel, d, 1], l.trainScale);
      const bias = dec.variable(tf.zeros([1]));
      const gate = dec.variable(tf.scalar(l.gateInit));
      synthesisBank = synthesis;
      return (z, conv) => {
        const w = synthesis.value();
        const linear = tf.add(ops.convTranspose1d(z, w, { stride: hop, padding }), bias);
        return tf.add(linear, tf.mul(conv, gate)) as tf.Tensor3D;
      };
    },
    initialization: {
      examples: l.pcaSegments,
      run(audio: Float32Array, count: number, length: number): void {
        if (length % hop !== 0) {
          throw new Error(`linear path: segments of ${length} samples are not frames of ${hop}`);
        }
        const frame = l.pcaFrame ?? hop, blocks = hop / frame, kept = d / blocks;
        const frames = (count * length) / frame;
        const { vectors } = principalComponents(audio, frames, frame, new Float32Array(frame));
        // Filter tap `padding + b·F + i` of channel b·kept + k sees sample i of sub-frame b (both
        // banks).
        const a = new Float32Array(l.kernel * d);
        for (let b = 0; b < blocks; b++) {
          for (let k = 0; k < kept; k++) {
            for (let i = 0; i < frame; i++) {
              a[(padding + b * frame + i) * d + b * kept + k] = vectors[k * frame + i];
            }
          }
        }
        analysis.initialize(a);
        synthesisBank!.initialize(a);
      },
    },
  };
}

/** A filter bank B₀ + s·Δ ({@linkcode LinearPathConfig.trainScale}); B₀ is not trained. */
interface Bank {
  value(): tf.Tensor3D;
  initialize(values: Float32Array): void;
}

function bank(builder: VariableMaker, shape: [number, number, number], scale: number): Bank {
  const base = builder.variable(tf.zeros(shape), false) as tf.Variable<tf.Rank.R3>;
  const delta = scale > 0 ? builder.variable(tf.zeros(shape)) as tf.Variable<tf.Rank.R3> : null;
  return {
    value: () => delta ? tf.add(base, tf.mul(delta, scale)) : base,
    initialize(values) {
      tf.tidy(() => {
        base.assign(tf.tensor3d(values, shape));
        delta?.assign(tf.zerosLike(delta));
      });
    },
  };
}
