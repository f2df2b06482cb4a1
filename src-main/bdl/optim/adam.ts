/**
 * Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1) with
 * tfjs' `AdamOptimizer` update, term for term:
 *
 *   m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
 *   θ ← θ − α · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).
 *
 * On the wasm backend with the native kernels each variable's step is one fused pass over θ, m, v
 * and g (tfjs runs ten elementwise kernels per variable: about 8 ms of every Gal CNN step);
 * elsewhere it is the same update in tfjs ops. New tensors are always written, never the old ones
 * in place: a variable's data may be shared with a clone (see kernels/identity.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { heapTensors, nativeOnWasm } from '../kernels/native.ts';

export class Adam extends tf.Optimizer {
  static className = 'EpistemeAdam';
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();
  /** β₁ᵗ and β₂ᵗ in float32, as tfjs keeps them. */
  private beta1Power: number;
  private beta2Power: number;

  constructor(
    readonly learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = tf.backend()?.epsilon() ?? 1e-7,
  ) {
    super();
    this.beta1Power = Math.fround(beta1);
    this.beta2Power = Math.fround(beta2);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const pairs = Array.isArray(variableGradients) ? variableGradients.map((g) => [g.name, g.tensor] as const) : Object.entries(variableGradients);
    const native = fusedStep();
    tf.tidy(() => {
      const c1 = Math.fround(1 - this.beta1Power);
      const c2 = Math.fround(1 - this.beta2Power);
      for (const [name, gradient] of pairs) {
        if (gradient == null) continue;
        const value = tf.engine().registeredVariables[name];
        let state = this.moments.get(name);
        if (!state) {
          state = tf.tidy(() => ({ m: tf.zerosLike(value).variable(false), v: tf.zerosLike(value).variable(false) }));
          this.moments.set(name, state);
        }
        const next = native ? native(value, state.m, state.v, gradient, this, c1, c2) : this.step(value, state.m, state.v, gradient, c1, c2);
        state.m.assign(next.m);
        state.v.assign(next.v);
        value.assign(next.value);
      }
    });
    this.beta1Power = Math.fround(this.beta1Power * this.beta1);
    this.beta2Power = Math.fround(this.beta2Power * this.beta2);
    this.incrementIterations();
  }

  private step(value: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, c1: number, c2: number) {
    const m2 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const v2 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    const update = tf.div(tf.div(m2, c1), tf.add(tf.sqrt(tf.div(v2, c2)), this.epsilon));
    return { value: tf.add(tf.mul(update, -this.learningRate), value), m: m2, v: v2 };
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

type FusedStep = (value: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, o: Adam, c1: number, c2: number) => { value: tf.Tensor; m: tf.Tensor; v: tf.Tensor };

/** The native fused step for float32 tensors in the (unshared) wasm heap, or null. */
function fusedStep(): FusedStep | null {
  const on = nativeOnWasm();
  if (!on) return null;
  return (value, m, v, g, o, c1, c2) => {
    const h = Float64Array.of(o.learningRate, o.beta1, o.beta2, o.epsilon, c1, c2);
    const heap = (t: tf.Tensor) => on.backend.typedArrayFromHeap(t as unknown as tf.TensorInfo);
    const [value2, m2, v2] = heapTensors(on.backend, [value.shape, value.shape, value.shape], ([x2, mo, vo]) =>
      on.native.adamStep(heap(value), heap(m), heap(v), heap(g), x2, mo, vo, h),
    );
    return { value: value2, m: m2, v: v2 };
  };
}
