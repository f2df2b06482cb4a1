/**
 * 'lora-laplace': Laplace on the LoRA parameters (Yang, Robeyns, Wang & Aitchison, "Bayesian
 * Low-rank Adaptation for Large Language Models", ICLR 2024). `fit` finds the MAP of the adapters
 * and the head (the backbone frozen), then a Gaussian N(θ*, (H + τI)⁻¹) over θ = (A_l, B_l, head)
 * with H the GGN of curvature.ts ('kron' default, or 'diag'), block-diagonal over the factors.
 * The prior is N(0, I/τ) on every LoRA parameter. τ is `priorPrecision` when given (the fit's L2
 * penalty is then the same prior, τ/N per example), else the maximiser of the Laplace log marginal
 * likelihood (laplace/marglik.ts) at the MAP found with the fit's own weight decay (post hoc: that
 * τ is in general not the penalty the MAP was fitted with). Predictive from S weight draws
 * δθ_s ~ N(0, (H + τI)⁻¹) (draw s is the same for every image: joint samples for BatchBALD):
 *   'mc' (default) — the linearised network (GLM, Immer, Korzepa & Bauer, AISTATS 2021; the
 *        predictive of Laplace-LoRA): f_s(x) = f(x; θ*) + J(x) δθ_s, exact J δθ through the
 *        factor inputs and output signals of curvature.ts;
 *   'nn' — θ* + δθ_s through the full non-linear network (the product ΔA·ΔB is not controlled by
 *        the curvature, so this predictive is much broader).
 */
import * as tf from '@tensorflow/tfjs';
import {
  blockEigenvalues,
  deserializeBlock,
  prepareBlock,
  serializeBlock,
  type CurvatureBlock,
  type SerializedBlock,
} from '../laplace/curvature.ts';
import { laplaceLogMarginalLikelihood, optimizePriorPrecision, type PriorPrecisionResult } from '../laplace/marglik.ts';
import { standardNormal } from '../linalg/random.ts';
import { deriveSeed } from '../util/random.ts';
import { countImages, imagesToTensor, yieldToEventLoop } from '../util/tensors.ts';
import { CancelledError, type FitOptions, type FitReport, type PosteriorOptions, type PredictOptions, type PredictiveSamples, type SerializedPosterior } from '../posterior/types.ts';
import { factorSignals, loraCurvature, loraFactors } from './curvature.ts';
import type { LoraNetwork, LoraWeights } from './network.ts';
import { loadLoraNetwork, LoraPosterior, validateLoraOptions } from './posterior.ts';

/** Options of 'lora-laplace' (registry `validate`). */
export function validateLoraLaplaceOptions(o: PosteriorOptions): void {
  validateLoraOptions(o);
  if (o.predictive !== undefined && o.predictive !== 'mc' && o.predictive !== 'nn') {
    throw new Error(`predictive '${String(o.predictive)}' is not supported for method 'lora-laplace' (supported: mc, nn)`);
  }
}

interface LoraLaplaceState {
  structure: 'diag' | 'kron';
  blocks: CurvatureBlock[];
  structures: ('diag' | 'kron')[];
  priorPrecision: number;
  priorPrecisionOptimized: boolean;
  logLikelihood: number;
  thetaSquaredNorm: number;
  examples: number;
  seconds: number;
}

export interface LoraLaplaceSummary {
  hessianStructure: 'diag' | 'kron';
  /** Structure used per factor (A_1, B_1, …, head). */
  factorStructures: ('diag' | 'kron')[];
  /** P, the number of LoRA + head parameters with a Gaussian posterior. */
  parameters: number;
  priorPrecision: number;
  priorPrecisionOptimized: boolean;
  logMarginalLikelihood: number;
  examples: number;
  seconds: number;
}

export class LoraLaplacePosterior extends LoraPosterior {
  readonly method = 'lora-laplace' as const;
  private st: LoraLaplaceState | null = null;
  private eigenvalues: Float64Array | null = null;

  constructor(options: PosteriorOptions, net?: LoraNetwork) {
    super(options, 1, net);
  }

  static async load(s: SerializedPosterior): Promise<LoraLaplacePosterior> {
    const p = new LoraLaplacePosterior(s.json.options, await loadLoraNetwork(s, 1));
    const st = s.json.state?.laplace as (Omit<LoraLaplaceState, 'blocks'> & { blocks: SerializedBlock[] }) | undefined;
    if (st) {
      const blocks = st.blocks.map(deserializeBlock);
      const factors = loraFactors(p.net);
      if (blocks.length !== factors.length || blocks.some((b, i) => b.P !== factors[i].dA * factors[i].dG)) {
        p.dispose();
        throw new Error('deserialize: lora-laplace curvature does not match the adapters');
      }
      p.st = { ...st, blocks };
    }
    return p;
  }

  get structure(): 'diag' | 'kron' {
    return this.options.hessianStructure === 'diag' ? 'diag' : 'kron';
  }

  get priorPrecision(): number {
    return this.requireFit().priorPrecision;
  }

  get summary(): LoraLaplaceSummary | null {
    const s = this.st;
    if (!s) return null;
    return {
      hessianStructure: s.structure,
      factorStructures: [...s.structures],
      parameters: s.blocks.reduce((a, b) => a + b.P, 0),
      priorPrecision: s.priorPrecision,
      priorPrecisionOptimized: s.priorPrecisionOptimized,
      logMarginalLikelihood: this.logMarginalLikelihood(),
      examples: s.examples,
      seconds: s.seconds,
    };
  }

  protected defaultSamples(): number {
    return this.options.mcSamples ?? 20;
  }

  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    const report = await super.fit(x, y, opts);
    await this.fitCurvature(x, y, { shouldStop: opts.shouldStop });
    return report;
  }

  /**
   * The post hoc part of `fit`: GGN at the current adapters θ* over (x, y), and τ (given, or by
   * marglik). @param x uint8 images [N, H, W, C]; y int32 labels [N]
   */
  async fitCurvature(x: Uint8Array, y: Int32Array, opts: { shouldStop?: () => boolean } = {}): Promise<void> {
    this.assertAlive();
    await this.net.load();
    const started = performance.now();
    const n = countImages(x, this.imageShape);
    if (y.length !== n) throw new Error(`fitCurvature: ${n} images but ${y.length} labels`);
    const c = await loraCurvature(this.net, 0, x, y, this.structure, { shouldStop: opts.shouldStop });
    let thetaSq = 0;
    for (const v of this.net.setVariables(0)) for (const t of await v.data()) thetaSq += t * t;
    this.eigenvalues = null;
    this.st = {
      structure: this.structure,
      blocks: c.blocks,
      structures: c.structures,
      priorPrecision: this.options.priorPrecision ?? 1,
      priorPrecisionOptimized: false,
      logLikelihood: c.logLikelihood,
      thetaSquaredNorm: thetaSq,
      examples: n,
      seconds: 0,
    };
    if (this.options.priorPrecision === undefined) this.optimizePriorPrecision();
    this.st.seconds = (performance.now() - started) / 1000;
  }

  /** log p(D | τ) by the Laplace approximation (laplace/marglik.ts), at τ (default: the current). */
  logMarginalLikelihood(priorPrecision?: number): number {
    const s = this.requireFit();
    return laplaceLogMarginalLikelihood(this.marglikTerms(), priorPrecision ?? s.priorPrecision);
  }

  /** τ ← argmax log p(D | τ). */
  optimizePriorPrecision(): PriorPrecisionResult {
    const s = this.requireFit();
    const r = optimizePriorPrecision(this.marglikTerms());
    s.priorPrecision = r.priorPrecision;
    s.priorPrecisionOptimized = true;
    return r;
  }

  /**
   * S samples [S, N, C] from the draws δθ_s ~ N(0, (H + τI)⁻¹) per factor (seeded by the sample and
   * the factor, so draws are shared across batches): 'mc' (default) softmax of the linearised logits
   * f(x; θ*) + J(x) δθ_s; 'nn' θ* + δθ_s through the whole network.
   */
  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    this.assertAlive();
    await this.net.load();
    const st = this.requireFit();
    const n = countImages(x, this.imageShape);
    const S = opts.samples ?? this.defaultSamples();
    if (!(Number.isInteger(S) && S >= 1)) throw new Error(`predictiveSamples: samples must be a positive integer, got ${S}`);
    const batchSize = opts.batchSize ?? 64;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error('predictiveSamples: batchSize must be a positive integer');
    const C = this.options.numClasses;
    const seed = opts.seed ?? this.seed;
    const glm = this.options.predictive !== 'nn';
    const draws = await this.sampleWeights(st, S, seed, glm);
    const stacks: tf.Tensor2D[] = [];
    const probs = new Float32Array(S * n * C);
    try {
      if (glm) {
        // Per factor, the S perturbations side by side [dA, S·dG] (column s·dG + j); the draws are then not needed.
        for (let i = 0; i < draws[0].length; i++) stacks.push(tf.concat(draws.map((d) => d[i]), 1));
        tf.dispose(draws.splice(0).flat());
      }
      for (let start = 0; start < n; start += batchSize) {
        if (opts.shouldStop?.()) throw new CancelledError('prediction cancelled');
        const count = Math.min(batchSize, n - start);
        const p = tf.tidy(() => {
          const h = this.net.prefix(imagesToTensor(x, this.imageShape, { start, count }));
          if (glm) return tf.softmax(this.glmLogits(h, stacks, S));
          return tf.stack(draws.map((d) => tf.softmax(this.net.suffix(h, this.asWeights(d)).logits)));
        });
        try {
          const v = (await p.data()) as Float32Array;
          for (let s = 0; s < S; s++) probs.set(v.subarray(s * count * C, (s + 1) * count * C), (s * n + start) * C);
        } finally {
          p.dispose();
        }
        opts.onProgress?.({ done: start + count, total: n, fraction: (start + count) / n });
        await yieldToEventLoop();
      }
    } finally {
      tf.dispose(draws.flat());
      tf.dispose(stacks);
    }
    if (n === 0) opts.onProgress?.({ done: 0, total: 0, fraction: 1 });
    return { probs, shape: [S, n, C] };
  }

  /**
   * Linearised logits [S, B, C] at prefix output h: f(h; θ*) + Σ_factors (ã ΔW_s) · δ_c with the
   * Jacobian signals for the output directions e_c. Inside tidy.
   */
  private glmLogits(h: tf.Tensor, stacks: tf.Tensor2D[], S: number): tf.Tensor3D {
    const C = this.options.numClasses;
    const B = h.shape[0];
    const eye = tf.eye(C);
    const sig = factorSignals(this.net, h, this.net.weights(0), C, () => tf.reshape(tf.tile(tf.expandDims(eye, 1), [1, B, 1]), [C * B, C]) as tf.Tensor2D);
    let df: tf.Tensor = tf.zeros([B, S, C]);
    stacks.forEach((st, i) => {
      const dG = st.shape[1] / S;
      const y = tf.reshape(tf.matMul(sig.inputs[i], st), [B, S, dG]); // ã ΔW_s
      const d = tf.transpose(tf.reshape(sig.signals[i], [C, B, dG]), [1, 2, 0]); // [B, dG, C]
      df = tf.add(df, tf.matMul(y, d));
    });
    return tf.transpose(tf.add(tf.expandDims(sig.logits, 1), df), [1, 0, 2]) as tf.Tensor3D;
  }

  /** A draw (per-factor matrices, head [D + 1, C]) as network weights. Inside tidy. */
  private asWeights(d: tf.Tensor2D[]): LoraWeights {
    const L = this.net.adaptedLayers.length;
    const head = d[2 * L];
    const D = head.shape[0] - 1;
    return {
      A: d.filter((_, i) => i < 2 * L && i % 2 === 0),
      B: d.filter((_, i) => i < 2 * L && i % 2 === 1),
      headKernel: tf.slice(head, [0, 0], [D, head.shape[1]]),
      headBias: tf.reshape(tf.slice(head, [D, 0], [1, head.shape[1]]), [head.shape[1]]),
    };
  }

  /**
   * S draws, each a list of per-factor matrices [dA, dG]: δθ_s ('mc', the GLM's perturbations) or
   * θ* + δθ_s ('nn'). Caller disposes.
   */
  private async sampleWeights(st: LoraLaplaceState, S: number, seed: number, perturbationOnly: boolean): Promise<tf.Tensor2D[][]> {
    const vars = this.net.setVariables(0);
    const theta: Float32Array[] = [];
    for (const v of vars) theta.push((await v.data()) as Float32Array);
    const prepared = st.blocks.map((b) => prepareBlock(b, st.priorPrecision));
    // θ blocks: A_l, B_l per layer, then the head [D + 1, C] = variables kernel [D, C] and bias [C]
    const headKernel = theta[theta.length - 2];
    const headTheta = new Float32Array(headKernel.length + theta[theta.length - 1].length);
    headTheta.set(headKernel);
    headTheta.set(theta[theta.length - 1], headKernel.length);
    const blockTheta = [...theta.slice(0, -2), headTheta];
    const factors = loraFactors(this.net);
    const draws: tf.Tensor2D[][] = [];
    try {
      for (let s = 0; s < S; s++) {
        const draw: tf.Tensor2D[] = [];
        draws.push(draw);
        prepared.forEach((p, i) => {
          const delta = p.sample(standardNormal(p.block.P, deriveSeed(deriveSeed(seed, 0x10a + s), i)));
          const values = perturbationOnly ? Float32Array.from(delta) : Float32Array.from(blockTheta[i], (t, j) => t + delta[j]);
          draw.push(tf.tensor2d(values, [factors[i].dA, factors[i].dG]));
        });
      }
    } catch (e) {
      tf.dispose(draws.flat());
      throw e;
    }
    return draws;
  }

  protected sampleProbs(): tf.Tensor3D {
    throw new Error('lora-laplace: sampleProbs is not used (predictiveSamples draws whole weight sets)');
  }

  protected override state(): Record<string, unknown> | undefined {
    const s = this.st;
    if (!s) return undefined;
    return { laplace: { ...s, blocks: s.blocks.map(serializeBlock) } };
  }

  private requireFit(): LoraLaplaceState {
    if (!this.st) throw new Error('lora-laplace: call fit first (the curvature is computed at the MAP adapters)');
    return this.st;
  }

  private marglikTerms() {
    const s = this.requireFit();
    if (!this.eigenvalues) {
      const parts = s.blocks.map(blockEigenvalues);
      this.eigenvalues = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
      let off = 0;
      for (const p of parts) {
        this.eigenvalues.set(p, off);
        off += p.length;
      }
    }
    return { logLikelihood: s.logLikelihood, thetaSquaredNorm: s.thetaSquaredNorm, eigenvalues: this.eigenvalues };
  }
}
