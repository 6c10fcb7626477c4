/**
 * Adam's update as one wasm-backend kernel per variable instead of thirteen.
 *
 * `tf.train.adam` updates each variable with thirteen elementwise ops (mul, add, square, div,
 * sqrt, …), each a kernel call with its own allocation and JavaScript bookkeeping: ~160 calls per
 * reference step, and most of the step for models with many small variables (the proxy codec).
 * The `QuantlabAdam` kernel runs the same arithmetic in one SIMD pass over the wasm heap
 * ({@link ./_wasm_simd.ts}), rounding to float32 after every operation in the order tfjs-core's
 * `AdamOptimizer.applyGradients` uses, so its results are bit-identical to the stock update.
 * {@linkcode patchAdam} routes `AdamOptimizer.applyGradients` through it while the wasm backend
 * is active, so every `tf.train.adam` in the process benefits.
 *
 * Update [Kingma & Ba 2015, as implemented by tfjs-core 4.22]:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
 *
 * @module
 */
import {
  AdamOptimizer,
  dispose,
  engine,
  getBackend,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  mul,
  type Tensor,
  type TensorInfo,
  tidy,
  util,
  type Variable,
  zerosLike,
} from "@tensorflow/tfjs-core";
import { heapF32, offsetF32, type WasmBackend } from "./_heap.ts";
import { adamSimd } from "./_wasm_simd.ts";

/** Name of the fused update kernel (wasm backend only). */
export const ADAM_KERNEL = "QuantlabAdam";

type KernelArgs = Parameters<KernelFunc>[0];

interface AdamAttrs {
  beta1: number;
  beta2: number;
  learningRate: number;
  epsilon: number;
}

const f = Math.fround;

/** Inputs `value, m, v, g` (same shape) and scalars `accBeta1, accBeta2`; outputs `[value', m', v']`. */
export function adamKernel(): KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const backend = args.backend as WasmBackend & { wasm: { asm: { memory: WebAssembly.Memory } } };
    const inputs = args.inputs as Record<string, TensorInfo>;
    const { beta1, beta2, learningRate, epsilon } = args.attrs as unknown as AdamAttrs;
    const shape = inputs.value.shape;
    const outs = [0, 1, 2].map(() => backend.makeOutput(shape, "float32"));
    const heap = heapF32(backend);
    const byte = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    adamSimd(backend.wasm.asm.memory)(
      byte(inputs.g),
      byte(inputs.m),
      byte(inputs.v),
      byte(inputs.value),
      byte(outs[1]),
      byte(outs[2]),
      byte(outs[0]),
      util.sizeFromShape(shape),
      beta1,
      f(1 - beta1),
      beta2,
      f(1 - beta2),
      f(1 - heap[offsetF32(backend, inputs.accBeta1)]),
      f(1 - heap[offsetF32(backend, inputs.accBeta2)]),
      epsilon,
      -learningRate,
    );
    return outs;
  };
  return { kernelName: ADAM_KERNEL, backendName: "wasm", kernelFunc: kernelFunc as KernelFunc };
}

/** The private state of tfjs-core's AdamOptimizer that the fused update reads and writes. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: { originalName: string; variable: Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: Variable }[];
  incrementIterations(): void;
}

type VariableGradients = Parameters<AdamOptimizer["applyGradients"]>[0];
type ApplyGradients = (this: AdamOptimizer, grads: VariableGradients) => void;

const original: ApplyGradients = AdamOptimizer.prototype.applyGradients;

function _fusedApplyGradients(
  this: AdamOptimizer,
  variableGradients: VariableGradients,
): void {
  const grads = Array.isArray(variableGradients)
    ? variableGradients
    : Object.keys(variableGradients).map((name) => ({
      name,
      tensor: variableGradients[name],
    }));
  const usable = getBackend() === "wasm" && getKernel(ADAM_KERNEL, "wasm") != null &&
    grads.every((g) => g.tensor == null || g.tensor.dtype === "float32");
  if (!usable) return original.call(this, variableGradients);
  const self = this as unknown as AdamState;
  const attrs = {
    beta1: self.beta1,
    beta2: self.beta2,
    learningRate: self.learningRate,
    epsilon: self.epsilon,
  };
  tidy(() => {
    grads.forEach(({ name, tensor: gradient }, i) => {
      const value = engine().registeredVariables[name];
      self.accumulatedFirstMoment[i] ??= {
        originalName: `${name}/m`,
        variable: tidy(() => zerosLike(value).variable(false)),
      };
      self.accumulatedSecondMoment[i] ??= {
        originalName: `${name}/v`,
        variable: tidy(() => zerosLike(value).variable(false)),
      };
      if (gradient == null) return;
      const m = self.accumulatedFirstMoment[i].variable;
      const v = self.accumulatedSecondMoment[i].variable;
      const [newValue, newM, newV] = engine().runKernel(
        ADAM_KERNEL,
        { value, m, v, g: gradient, accBeta1: self.accBeta1, accBeta2: self.accBeta2 },
        attrs as never,
      ) as Tensor[];
      m.assign(newM);
      v.assign(newV);
      value.assign(newValue);
      dispose([newValue, newM, newV]);
    });
    self.accBeta1.assign(mul(self.accBeta1, self.beta1));
    self.accBeta2.assign(mul(self.accBeta2, self.beta2));
  });
  self.incrementIterations();
}

/**
 * Route `AdamOptimizer.applyGradients` through {@linkcode ADAM_KERNEL} whenever the wasm backend
 * is active and the kernel registered (anything else takes tfjs-core's own update). Returns a
 * function that restores the original.
 */
export function patchAdam(): () => void {
  AdamOptimizer.prototype.applyGradients = _fusedApplyGradients;
  return () => {
    AdamOptimizer.prototype.applyGradients = original;
  };
}
