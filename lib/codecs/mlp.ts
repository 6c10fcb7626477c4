/**
 * The frame-wise MLP proxy codec of paper A: latents are frames, [B, F] → [B, L].
 *
 * @module
 */
import { tf } from "../backend.ts";
import { checkInt } from "../kinds.ts";
import { type Rng } from "../random.ts";
import type { Codec } from "./types.ts";

/** Frame-wise MLP proxy codec (method §3): three FC layers per side with a skip. [paper A structure] */
export interface MlpCodecConfig {
  kind: "mlp";
  /** Hidden width H. [choice] */
  hidden: number;
  /** Latent dimension L (encoder output, quantizer input). [choice] */
  latent: number;
}

/** Defaults of the paper-A proxy's codec (method §4): H = 128, L = 8. [choice] */
export const MLP_CODEC_DEFAULTS: MlpCodecConfig = { kind: "mlp", hidden: 128, latent: 8 };

/** Throw a {@linkcode ConfigError} naming the first bad field (as `codec.<field>`). */
export function validateMlpCodec(c: MlpCodecConfig): void {
  checkInt("codec.hidden", c.hidden, 1, 8192);
  checkInt("codec.latent", c.latent, 1, 4096);
}

/** A fully-connected layer y = W x + b with optional PReLU (slopes learned per unit). */
class Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  readonly alpha: tf.Variable | null;

  constructor(fanIn: number, fanOut: number, prelu: boolean, rng: Rng) {
    // Glorot-uniform weights, zero biases, PReLU slopes 0.25. [choice]
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    // Built in tidy so the initial values are freed once the variables hold them.
    this.w = tf.tidy(() =>
      tf.variable(tf.tensor2d(rng.uniforms(fanIn * fanOut, -limit, limit), [fanIn, fanOut]), true)
    );
    this.b = tf.tidy(() => tf.variable(tf.zeros([fanOut]), true));
    this.alpha = prelu ? tf.tidy(() => tf.variable(tf.fill([fanOut], 0.25), true)) : null;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const h = tf.add(tf.matMul(x, this.w), this.b) as tf.Tensor2D;
    return this.alpha ? tf.prelu(h, this.alpha as never) : h;
  }

  get variables(): tf.Variable[] {
    return this.alpha ? [this.w, this.b, this.alpha] : [this.w, this.b];
  }
}

/** Three frame-wise FC layers with a skip: h1 = PReLU(W1 x); h2 = h1 + PReLU(W2 h1); out = W3 h2. [paper A] */
class MlpStack {
  readonly layers: [Dense, Dense, Dense];

  constructor(inDim: number, hidden: number, outDim: number, rng: Rng) {
    this.layers = [
      new Dense(inDim, hidden, true, rng),
      new Dense(hidden, hidden, true, rng),
      new Dense(hidden, outDim, false, rng),
    ];
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const h1 = this.layers[0].apply(x);
    const h2 = tf.add(h1, this.layers[1].apply(h1)) as tf.Tensor2D;
    return this.layers[2].apply(h2);
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }
}

/**
 * The low-complexity proxy codec of paper A: encoder and decoder each three frame-wise FC
 * layers with a skip connection; the first encoder layer is FC(F→H) + PReLU. The encoder's
 * last layer is linear, so e can grow without bound. [paper A structure; sizes are choice]
 */
export function mlpCodec(
  config: MlpCodecConfig,
  inputDim: number,
  outputDim: number,
  rng: Rng,
): Codec {
  const encoder = new MlpStack(inputDim, config.hidden, config.latent, rng);
  const decoder = new MlpStack(config.latent, config.hidden, outputDim, rng);
  const encoderVariables = encoder.variables, decoderVariables = decoder.variables;
  const variables = [...encoderVariables, ...decoderVariables];
  return {
    latentDim: config.latent,
    encoderVariables,
    decoderVariables,
    variables,
    encode: (x) => encoder.apply(x as tf.Tensor2D),
    decode: (q) => decoder.apply(q as tf.Tensor2D),
    dispose: () => variables.forEach((v) => v.dispose()),
  };
}
