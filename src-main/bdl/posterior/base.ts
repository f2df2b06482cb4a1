/**
 * `Posterior`: the base class owning fitting and the predictive (laplace-torch's BaseLaplace
 * pattern). Subclasses override small hooks:
 *
 * - {@link Posterior.sampleProbs}: trunk features of a batch → S predictive samples [S, B, C];
 * - {@link Posterior.defaultSamples}: S when the caller gives none;
 * - {@link Posterior.trainingLogits}: the network in training mode (default: all dropout on);
 * - {@link Posterior.penalty}: the negative log prior / N (default: from `prior` + weightDecay;
 *   'spike-slab': Gaussian on all but the input layer, whose prior is a proximal step of the
 *   default optimiser, spikeSlab.ts);
 * - {@link Posterior.state}: extra JSON state to serialise.
 *
 * Inputs and outputs are typed arrays (uint8 images [N,H,W,C], int32 labels [N], float32
 * probabilities [S,N,C]) so callers can move them between worker threads; tensors live only
 * inside, in batches, and everything is released (`tf.tidy` / `dispose` in `finally`).
 */
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../optim/adam.ts';
import { ConvNet, type DropoutMode } from '../models/convNet.ts';
import { DEFAULT_SEED, deriveSeed, permutation } from '../util/random.ts';
import { countImages, imagesToTensor, yieldToEventLoop } from '../util/tensors.ts';
import { inclusionProbabilities, inputKernel, SpikeSlabProximalAdam } from './spikeSlab.ts';
import {
  CancelledError,
  type FitOptions,
  type FitReport,
  type Method,
  type PosteriorOptions,
  type PredictOptions,
  type PredictiveSamples,
  type SerializedPosterior,
  type SerializedPosteriorJson,
} from './types.ts';

/**
 * Memory budgets, in float32 elements: the expanded head input of one chunk of samples
 * ([S_chunk·B, h', w', F]) and the trunk activations of one predictive batch. (The random masks
 * are seeded per batch and chunk, so results are reproducible for the same inputs and options.)
 */
const HEAD_ELEMENTS_BUDGET = 32 * 1024 * 1024;
const TRUNK_ELEMENTS_BUDGET = 64 * 1024 * 1024;

/** What {@link Posterior.createOptimizer} knows about the fit. */
export interface OptimizerContext {
  learningRate: number;
  /** Effective penalty coefficient (τ/N when priorPrecision is given). */
  weightDecay: number;
  /** N, the number of training examples. */
  examples: number;
  batchSize: number;
  /** Batches per epoch. */
  batches: number;
  epochs: number;
  /** The fit's seed. */
  seed: number;
}

/**
 * What the base class needs of a network: the {@link ConvNet} of most methods (either architecture), or lora/network.ts
 * (an imported backbone with adapters). `trunk` is the deterministic part run once per image.
 */
export interface PosteriorNetwork {
  readonly model: tf.LayersModel;
  readonly featureDim: number;
  readonly trainableVariables: tf.Variable[];
  trunk(x: tf.Tensor4D): tf.Tensor4D;
  penultimate(h: tf.Tensor4D): tf.Tensor2D;
  logits(x: tf.Tensor4D, opts?: { dropout?: DropoutMode; seed?: number }): tf.Tensor2D;
  dispose(): void;
}

/**
 * (c/2)·Σ_v ‖v‖² for tensors vs [any shapes], with its gradient c·v written out: autodiff of
 * sum(square(v)) would build a ones tensor and two products per variable (about 3 ms of every
 * Gal CNN training step on wasm).
 */
export function gaussianPenalty(vs: tf.Tensor[], c: number): tf.Scalar {
  if (vs.length === 0) return tf.scalar(0);
  const penalty = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, vs.length) as tf.Tensor[];
    const value = tf.mul(tf.addN(xs.map((v) => tf.sum(tf.square(v)))), c / 2) as tf.Scalar;
    return { value, gradFunc: (dy: tf.Tensor) => xs.map((v) => tf.mul(v, tf.mul(dy, c))) };
  });
  return penalty(...vs) as tf.Scalar;
}

export abstract class Posterior<N extends PosteriorNetwork = PosteriorNetwork> {
  abstract readonly method: Method;
  readonly options: Readonly<PosteriorOptions>;
  protected readonly net: N;
  protected fitReport: FitReport | null = null;
  private disposed = false;

  /**
   * Use {@link createPosterior}; `net` is given when deserialising. Without it a Gal CNN is built:
   * subclasses over another network type always pass theirs.
   */
  protected constructor(options: PosteriorOptions, net?: N) {
    this.options = Object.freeze({ ...options });
    this.net =
      net ??
      (ConvNet.create({
        architecture: options.architecture,
        imageSize: options.imageSize,
        channels: options.channels,
        numClasses: options.numClasses,
        seed: this.seed,
      }) as PosteriorNetwork as N);
  }

  get seed(): number {
    return this.options.seed ?? DEFAULT_SEED;
  }

  get imageShape(): [number, number, number] {
    return [this.options.imageSize, this.options.imageSize, this.options.channels];
  }

  /** The underlying network (for feature extraction and later methods). */
  get network(): N {
    return this.net;
  }

  /** The report of the last `fit`, or null. */
  get lastFit(): FitReport | null {
    return this.fitReport;
  }

  // ---------------------------------------------------------------- hooks

  /** S used by `predictiveSamples` when the caller does not give one. */
  protected abstract defaultSamples(): number;

  /**
   * Predictive samples for one batch: trunk output h [B, h', w', F] → probabilities [S, B, C].
   * Called inside `tf.tidy`. `seed` is fixed per batch (reproducible). With `consistent`, sample s
   * must use the same randomness for every image of the batch (the seed is then the same for every batch).
   * `offset` is the index of this chunk's first sample in [0, S) (methods with a fixed set of
   * samples — ensemble members, an SGLD bank — return samples offset … offset + samples − 1).
   */
  protected abstract sampleProbs(h: tf.Tensor4D, samples: number, seed: number, consistent?: boolean, offset?: number): tf.Tensor3D;

  /** Logits [B, C] of the network in training mode for images x [B,H,W,C] (inside tidy). */
  protected trainingLogits(x: tf.Tensor4D, seed: number): tf.Tensor2D {
    return this.net.logits(x, { dropout: 'all', seed });
  }

  /**
   * Negative log prior divided by N, added to the mean NLL (inside tidy).
   * gaussian: wd/2·Σw² (gradient wd·w, as torch.optim.Adam(weight_decay=wd)); laplace: wd·Σ|w|.
   */
  protected penalty(weightDecay: number): tf.Scalar {
    const vars = this.net.trainableVariables;
    if (this.options.prior === 'spike-slab') {
      // The input layer's spike-and-slab is the optimiser's proximal step (createOptimizer), not a loss term.
      const kernel = inputKernel(this.net);
      return gaussianPenalty(vars.filter((v) => v !== kernel), weightDecay);
    }
    if (weightDecay === 0 || vars.length === 0) return tf.scalar(0);
    if (this.options.prior !== 'laplace') return gaussianPenalty(vars, weightDecay);
    return tf.mul(tf.addN(vars.map((v) => tf.sum(tf.abs(v)))), weightDecay);
  }

  /** Method-specific JSON state for `serialize` (default none). */
  protected state(): Record<string, unknown> | undefined {
    return undefined;
  }

  /** The variables `fit` optimises (default: the network's; e.g. 'vi' adds its σ parameters). */
  protected fitVariables(): tf.Variable[] {
    return this.net.trainableVariables;
  }

  /**
   * The optimiser of `fit`, created once per fit and disposed at its end (default Adam; with the
   * 'spike-slab' prior Adam + the prior's proximal step on the input layer). 'ivon' and 'sgld' return
   * their own `tf.Optimizer` (they need N, the step count and a seed: `ctx`).
   */
  protected createOptimizer(ctx: OptimizerContext): tf.Optimizer {
    if (this.options.prior === 'spike-slab') return new SpikeSlabProximalAdam(inputKernel(this.net), ctx.learningRate, ctx.examples);
    return new Adam(ctx.learningRate);
  }

  /**
   * What `predictiveSamples` hands to `sampleProbs` for images x [B,H,W,C] (inside tidy). Default:
   * the deterministic trunk, once per image. Methods whose trunk weights are random (ensemble
   * members, weight samples) return x itself and run the whole network per sample.
   */
  protected predictiveInput(x: tf.Tensor4D): tf.Tensor4D {
    return this.net.trunk(x);
  }

  // ---------------------------------------------------------------- fitting

  /** Effective penalty coefficient for N examples (see PosteriorOptions.priorPrecision). */
  protected effectiveWeightDecay(n: number, fitWeightDecay: number): number {
    const tau = this.options.priorPrecision;
    if (tau === undefined) return fitWeightDecay;
    return this.options.prior === 'laplace' ? Math.sqrt(2 * tau) / n : tau / n;
  }

  /**
   * Trains the network by Adam on mean cross-entropy + penalty (MAP / variational objective).
   *
   * @param x uint8 images [N, H, W, C], flat, row-major, 0–255 (divided by 255 inside)
   * @param y int32 class indices [N] in [0, numClasses)
   */
  async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    this.assertAlive();
    const n = countImages(x, this.imageShape);
    if (y.length !== n) throw new Error(`fit: ${n} images but ${y.length} labels`);
    if (n === 0) throw new Error('fit: no training examples');
    const C = this.options.numClasses;
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(y[i]) || y[i] < 0 || y[i] >= C) throw new Error(`fit: label y[${i}] = ${y[i]} is not in [0, ${C})`);
    }
    const epochs = opts.epochs ?? 20;
    const batchSize = opts.batchSize ?? 64;
    const learningRate = opts.learningRate ?? 1e-3;
    if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`fit: epochs must be a positive integer, got ${epochs}`);
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`fit: batchSize must be a positive integer, got ${batchSize}`);
    if (!(learningRate > 0)) throw new Error(`fit: learningRate must be > 0, got ${learningRate}`);
    const weightDecay = this.effectiveWeightDecay(n, opts.weightDecay ?? 1e-4);
    if (!(weightDecay >= 0)) throw new Error(`fit: weightDecay must be ≥ 0, got ${weightDecay}`);
    const seed = opts.seed ?? this.seed;
    const batches = Math.ceil(n / batchSize);
    const totalSteps = epochs * batches;
    const vars = this.fitVariables();
    const optimizer = this.createOptimizer({ learningRate, weightDecay, examples: n, batchSize, batches, epochs, seed });
    const started = performance.now();
    const lossHistory: number[] = [];
    let step = 0;
    try {
      for (let epoch = 0; epoch < epochs; epoch++) {
        const order = permutation(n, deriveSeed(seed, 7919 + epoch));
        let epochLoss = 0;
        for (let b = 0; b < batches; b++) {
          if (opts.shouldStop?.()) throw new CancelledError('fit cancelled');
          const rows = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
          const xb = imagesToTensor(x, this.imageShape, rows);
          const yb = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(rows, (r) => y[r]), 'int32'), C).toFloat());
          let lossT: tf.Scalar | null = null;
          try {
            const dropoutSeed = deriveSeed(seed, 1_000_003 * (epoch + 1) + b);
            lossT = optimizer.minimize(
              () =>
                tf.tidy(() => {
                  const logits = this.trainingLogits(xb, dropoutSeed);
                  const nll = tf.losses.softmaxCrossEntropy(yb, logits) as tf.Scalar;
                  return tf.add(nll, this.penalty(weightDecay)) as tf.Scalar;
                }),
              true,
              vars,
            );
            const loss = (await lossT!.data())[0];
            if (!Number.isFinite(loss)) throw new Error(`fit: loss became ${loss} at epoch ${epoch + 1}, batch ${b + 1}`);
            epochLoss += loss * rows.length;
            step++;
            opts.onProgress?.({ epoch: epoch + 1, epochs, batch: b + 1, batches, loss, fraction: step / totalSteps });
          } finally {
            xb.dispose();
            yb.dispose();
            lossT?.dispose();
          }
          await yieldToEventLoop();
        }
        lossHistory.push(epochLoss / n);
      }
    } finally {
      optimizer.dispose();
    }
    this.fitReport = {
      method: this.method,
      backend: tf.getBackend(),
      examples: n,
      epochs,
      batchSize,
      batches,
      learningRate,
      weightDecay,
      penalty: this.options.prior === 'laplace' ? 'l1' : this.options.prior === 'spike-slab' ? 'spike-slab' : 'l2',
      lossHistory,
      finalLoss: lossHistory[lossHistory.length - 1],
      seconds: (performance.now() - started) / 1000,
    };
    if (this.options.prior === 'spike-slab') this.fitReport.inclusion = await inclusionProbabilities(inputKernel(this.net));
    return this.fitReport;
  }

  // ---------------------------------------------------------------- predictive

  /**
   * S samples of the predictive p(y | x, D) for every image.
   *
   * @param x uint8 images [N, H, W, C]
   * @returns probs [S, N, C] (S = 1 for 'map'); the trunk runs once per image, only the
   *   stochastic part of the network runs S times.
   */
  async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    this.assertAlive();
    const n = countImages(x, this.imageShape);
    const S = opts.samples ?? this.defaultSamples();
    if (!(Number.isInteger(S) && S >= 1)) throw new Error(`predictiveSamples: samples must be a positive integer, got ${S}`);
    const [H, W] = this.imageShape;
    // Default: 64 images, fewer for large images so conv activations stay within budget.
    const batchSize = opts.batchSize ?? Math.max(1, Math.min(64, Math.floor(TRUNK_ELEMENTS_BUDGET / (H * W * 32))));
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`predictiveSamples: batchSize must be a positive integer`);
    const C = this.options.numClasses;
    const seed = opts.seed ?? this.seed;
    const consistent = opts.consistentMasks === true;
    // Consistent masks: the sample chunks (set by the first, largest batch) and their seeds must not
    // depend on the batch, so sample s draws the same masks for every image.
    let consistentChunk: number | undefined;
    const probs = new Float32Array(S * n * C);
    let features = opts.withFeatures ? new Float32Array(n * this.net.featureDim) : undefined;
    for (let start = 0, batch = 0; start < n; start += batchSize, batch++) {
      if (opts.shouldStop?.()) throw new CancelledError('prediction cancelled');
      const count = Math.min(batchSize, n - start);
      const xb = imagesToTensor(x, this.imageShape, { start, count });
      let h: tf.Tensor4D | null = null;
      try {
        h = tf.tidy(() => this.predictiveInput(xb));
        if (features) {
          // h is the batch itself when the whole network runs per sample: there is no shared trunk then.
          if (h === xb) features = undefined;
          else await copyFeatures(tf.tidy(() => this.net.penultimate(h!)), features, start);
        }
        // Chunks of samples so the expanded head input stays within HEAD_ELEMENTS_BUDGET.
        let perChunk = Math.max(1, Math.floor(HEAD_ELEMENTS_BUDGET / h.size));
        if (consistent) perChunk = consistentChunk ??= perChunk;
        for (let s0 = 0; s0 < S; s0 += perChunk) {
          const s1 = Math.min(S, s0 + perChunk);
          const chunkSeed = deriveSeed(deriveSeed(seed, consistent ? 0xc0515 : 0x5eed + batch), s0);
          const p = tf.tidy(() => this.sampleProbs(h!, s1 - s0, chunkSeed, consistent, s0));
          try {
            const values = (await p.data()) as Float32Array;
            for (let s = s0; s < s1; s++) {
              probs.set(values.subarray((s - s0) * count * C, (s - s0 + 1) * count * C), (s * n + start) * C);
            }
          } finally {
            p.dispose();
          }
        }
      } finally {
        xb.dispose();
        h?.dispose();
      }
      const done = start + count;
      opts.onProgress?.({ done, total: n, fraction: done / n });
      await yieldToEventLoop();
    }
    if (n === 0) opts.onProgress?.({ done: 0, total: 0, fraction: 1 });
    return features ? { probs, shape: [S, n, C], features } : { probs, shape: [S, n, C] };
  }

  /**
   * Penultimate-layer features (deterministic network, dropout off).
   * @param x uint8 images [N, H, W, C]
   * @returns features [N, D] (D = 128 for the Gal CNN)
   */
  async features(x: Uint8Array, opts: { batchSize?: number } = {}): Promise<{ features: Float32Array; shape: [number, number] }> {
    this.assertAlive();
    const n = countImages(x, this.imageShape);
    const batchSize = opts.batchSize ?? 64;
    const d = this.net.featureDim;
    const out = new Float32Array(n * d);
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      const z = tf.tidy(() => {
        const xb = imagesToTensor(x, this.imageShape, { start, count });
        return this.net.penultimate(this.net.trunk(xb));
      });
      try {
        out.set((await z.data()) as Float32Array, start * d);
      } finally {
        z.dispose();
      }
    }
    return { features: out, shape: [n, d] };
  }

  // ---------------------------------------------------------------- persistence

  /** Plain JSON + one ArrayBuffer, for the caller to write to disk or post to another thread. */
  async serialize(): Promise<SerializedPosterior> {
    this.assertAlive();
    let artifacts: tf.io.ModelArtifacts | null = null;
    await this.net.model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const a = artifacts as tf.io.ModelArtifacts | null;
    if (!a || !a.modelTopology || !a.weightSpecs || !a.weightData) throw new Error('serialize: tfjs returned no artifacts');
    const weights = weightDataToArrayBuffer(a.weightData);
    const json: SerializedPosteriorJson = {
      format: 'episteme-bdl-posterior',
      version: 1,
      method: this.method,
      options: { ...this.options },
      modelTopology: a.modelTopology as object,
      weightSpecs: a.weightSpecs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: s.dtype })),
      fitReport: this.fitReport,
      state: this.state(),
    };
    return { json, weights };
  }

  /** Inverse of {@link serialize}: rebuilds the posterior of the recorded method. */
  static async deserialize(s: SerializedPosterior): Promise<Posterior> {
    const { deserializePosterior } = await import('./registry.ts');
    return deserializePosterior(s);
  }

  /** Loads the network from serialised JSON + weights (used by the registry). */
  static async loadNetwork(s: SerializedPosterior): Promise<ConvNet> {
    const { json, weights } = s;
    if (json?.format !== 'episteme-bdl-posterior') throw new Error(`deserialize: not a serialised posterior (format ${String(json?.format)})`);
    if (json.version !== 1) throw new Error(`deserialize: unsupported version ${json.version}`);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: weights,
      }),
    );
    return new ConvNet(model);
  }

  /** Restores the fit report after deserialisation (used by the registry). */
  restoreFitReport(r: FitReport | null): void {
    this.fitReport = r;
  }

  /** Frees the network's weights. The posterior cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.net.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  protected assertAlive(): void {
    if (this.disposed) throw new Error(`${this.method} posterior has been disposed`);
  }
}

function weightDataToArrayBuffer(w: tf.io.WeightData): ArrayBuffer {
  if (w instanceof ArrayBuffer) return w.slice(0);
  return tf.io.CompositeArrayBuffer.join(w);
}

/** Copies features z [B, D] into out [N, D] from row `start`, and disposes z. */
async function copyFeatures(z: tf.Tensor2D, out: Float32Array, start: number): Promise<void> {
  try {
    out.set((await z.data()) as Float32Array, start * z.shape[1]);
  } finally {
    z.dispose();
  }
}
