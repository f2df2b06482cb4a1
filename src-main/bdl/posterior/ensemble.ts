/**
 * 'ensemble': deep ensembles (Lakshminarayanan, Pritzel & Blundell, "Simple and Scalable Predictive
 * Uncertainty Estimation using Deep Ensembles", NeurIPS 2017; for active learning: Beluch, Genewein,
 * Nürnberger & Köhler, CVPR 2018).
 *
 * K = `ensembleSize` (default 5) Gal CNNs, each a MAP network trained exactly as the 'map' method
 * (Adam on mean NLL + the prior penalty, dropout during training), from its own seed: member k uses
 * seed_k = deriveSeed(seed, k) for its initialisation and deriveSeed(fitSeed, k) for shuffling and
 * dropout. Predictive: one sample per member, p_k = softmax(f_k(x)) (deterministic member, dropout
 * off), S = K (their uniform mixture is the predictive, §2.4). Every member runs its whole network per
 * image.
 *
 * Training in parallel: members are trained by worker threads (`ensembleMemberWorker.ts`, one member
 * per worker, at most `workers` at once; wasm threads per worker = cores / workers), started through
 * jobs/runWorker.ts. With workers: 0, on a single core, or if a worker fails, members are trained
 * sequentially in this thread. Same seeds → same members either way (measured: bit-identical
 * predictions on wasm). `lastEnsembleFit` says which path ran.
 *
 * Default `workers`: min(K, cores) when there are ≥ 2 cores AND the fit is large enough to amortise a
 * worker's start-up (tsx + tfjs + wasm: 5–7 s measured on the 2-core development machine), i.e.
 * N · epochs · H·W·C ≥ PARALLEL_MIN_WORK (≈ 2000 epochs-images of 28 × 28, ~20 s of training per
 * member there); otherwise 0. Measured there (cores shared with other jobs): a member of 400 MNIST
 * digits × 2 epochs took 7.7 s in this thread, 8.0 s alone in a worker (plus 7 s start-up), and two
 * concurrent workers took 17 s each — parallelism only pays when the cores are actually free.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { runWorker, CancelledError as JobCancelledError } from '../../jobs/runWorker.ts';
import type { BackendName } from '../backend.ts';
import { ConvNet } from '../models/convNet.ts';
import { flattenAsync, unflatten } from '../layers/galCnnParams.ts';
import { appendArrays, readArrays, requireArray } from '../layers/weightBuffer.ts';
import { DEFAULT_SEED, deriveSeed } from '../util/random.ts';
import { countImages } from '../util/tensors.ts';
import { Posterior } from './base.ts';
import { MapPosterior } from './map.ts';
import {
  CancelledError,
  type FitOptions,
  type FitProgress,
  type FitReport,
  type PosteriorOptions,
  type PredictOptions,
  type PredictiveSamples,
  type SerializedPosterior,
  type SerializedPosteriorJson,
} from './types.ts';

export const ENSEMBLE_DEFAULT_SIZE = 5;

/** Seed of member k's initialisation. */
export function ensembleMemberSeed(seed: number, k: number): number {
  return deriveSeed(seed, k);
}

export interface EnsembleFitOptions extends FitOptions {
  /**
   * Worker threads training members in parallel; 0 trains every member in this thread. Default:
   * min(K, cores) when there are ≥ 2 cores and N · epochs · H·W·C ≥ PARALLEL_MIN_WORK, else 0.
   */
  workers?: number;
}

/** How the last fit ran. */
export interface EnsembleFitInfo {
  /** Members trained by worker threads. */
  parallelMembers: number;
  workers: number;
  /** Why training fell back to this thread, if it did. */
  fallback?: string;
  /** Each member's own report. */
  members: FitReport[];
}

/** Request / result of one member's worker (posterior/ensembleMemberWorker.ts). */
export interface MemberRequest {
  /** The member as a 'map' posterior (its seed = the member's seed). */
  options: PosteriorOptions;
  /** uint8 images [N,H,W,C], in a SharedArrayBuffer shared by all members. */
  x: Uint8Array;
  y: Int32Array;
  fit: { epochs?: number; batchSize?: number; learningRate?: number; weightDecay?: number; seed: number };
  /** The main thread's tfjs backend, so the members match a sequential fit. */
  backend: BackendName;
  /** XNNPACK threads for wasm in the worker. */
  wasmThreads: number;
}

export interface MemberResult {
  json: SerializedPosteriorJson;
  weights: ArrayBuffer;
  report: FitReport;
}

/** Minimum N · epochs · H·W·C for training members in workers by default (see the file comment). */
export const PARALLEL_MIN_WORK = 2000 * 28 * 28;

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function toShared<T extends Uint8Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const buf = new SharedArrayBuffer(a.byteLength);
  const out = new (a.constructor as { new (b: SharedArrayBuffer): T })(buf);
  out.set(a as never);
  return out;
}

export class EnsemblePosterior extends Posterior<ConvNet> {
  readonly method = 'ensemble' as const;
  /** K. */
  readonly size: number;
  /** Member networks; [0] is `this.net`, the others are created on first use. */
  private readonly members: (ConvNet | null)[];
  private info: EnsembleFitInfo | null = null;

  constructor(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior) {
    const seed = options.seed ?? DEFAULT_SEED;
    super(options, net ?? ConvNet.create({ architecture: options.architecture, imageSize: options.imageSize, channels: options.channels, numClasses: options.numClasses, seed: ensembleMemberSeed(seed, 0) }));
    this.size = options.ensembleSize ?? ENSEMBLE_DEFAULT_SIZE;
    this.members = Array.from({ length: this.size }, (_, k) => (k === 0 ? this.net : null));
    if (from) {
      const arrays = readArrays(from);
      const shapes = this.net.model.weights.map((w) => w.shape as number[]);
      for (let k = 1; k < this.size; k++) {
        const a = requireArray(arrays, `ensemble/member/${k}`, 'ensemble member');
        const m = this.createMember(k);
        const values = unflatten(a.values, shapes);
        try {
          m.model.setWeights(values);
        } finally {
          tf.dispose(values);
        }
        this.members[k] = m;
      }
    }
  }

  /** How the last fit ran (null before). */
  get lastEnsembleFit(): EnsembleFitInfo | null {
    return this.info;
  }

  private createMember(k: number): ConvNet {
    return ConvNet.create({ architecture: this.options.architecture, imageSize: this.options.imageSize, channels: this.options.channels, numClasses: this.options.numClasses, seed: ensembleMemberSeed(this.seed, k) });
  }

  /** Member k's network (created from its seed on first use). */
  member(k: number): ConvNet {
    this.assertAlive();
    if (!(Number.isInteger(k) && k >= 0 && k < this.size)) throw new Error(`ensemble: no member ${k} (K = ${this.size})`);
    return (this.members[k] ??= this.createMember(k));
  }

  /** Member k as a 'map' posterior's options. */
  private memberOptions(k: number): PosteriorOptions {
    const o: PosteriorOptions = {
      method: 'map',
      ...(this.options.architecture ? { architecture: this.options.architecture } : {}),
      imageSize: this.options.imageSize,
      channels: this.options.channels,
      numClasses: this.options.numClasses,
      seed: ensembleMemberSeed(this.seed, k),
    };
    if (this.options.prior !== undefined) o.prior = this.options.prior;
    if (this.options.priorPrecision !== undefined) o.priorPrecision = this.options.priorPrecision;
    return o;
  }

  protected defaultSamples(): number {
    return this.size;
  }

  /**
   * Trains the K members (in parallel worker threads when possible, see the file comment).
   * Progress `fraction` is over all members; the other fields are the reporting member's.
   */
  override async fit(x: Uint8Array, y: Int32Array, opts: EnsembleFitOptions = {}): Promise<FitReport> {
    this.assertAlive();
    const n = countImages(x, this.imageShape);
    if (y.length !== n) throw new Error(`fit: ${n} images but ${y.length} labels`);
    if (n === 0) throw new Error('fit: no training examples');
    const K = this.size;
    const work = n * (opts.epochs ?? 20) * this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const workers = opts.workers ?? (cores() >= 2 && K > 1 && work >= PARALLEL_MIN_WORK ? Math.min(K, cores()) : 0);
    if (!(Number.isInteger(workers) && workers >= 0)) throw new Error(`fit: workers must be an integer ≥ 0, got ${workers}`);
    const fitSeed = opts.seed ?? this.seed;
    const memberFit = (k: number) => ({
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      learningRate: opts.learningRate,
      weightDecay: opts.weightDecay,
      seed: deriveSeed(fitSeed, k),
    });
    const started = performance.now();
    const reports: (FitReport | undefined)[] = new Array(K);
    const fractions = new Float64Array(K);
    const progress = (k: number, p: FitProgress) => {
      fractions[k] = p.fraction;
      opts.onProgress?.({ ...p, fraction: fractions.reduce((a, b) => a + b, 0) / K });
    };
    const info: EnsembleFitInfo = { parallelMembers: 0, workers: Math.min(workers, K), members: [] };

    if (workers > 0) {
      try {
        await this.fitParallel(x, y, Math.min(workers, K), memberFit, reports, progress, opts.shouldStop);
      } catch (e) {
        if (e instanceof CancelledError) throw e;
        info.fallback = e instanceof Error ? e.message : String(e);
      }
      info.parallelMembers = reports.filter(Boolean).length;
    }
    for (let k = 0; k < K; k++) {
      if (reports[k]) continue;
      // Trains member k's network in place, exactly as the 'map' method.
      const m = new MapPosterior(this.memberOptions(k), this.member(k));
      reports[k] = await m.fit(x, y, { ...memberFit(k), onProgress: (p) => progress(k, p), shouldStop: opts.shouldStop });
    }
    const done = reports as FitReport[];
    info.members = done;
    this.info = info;
    const epochs = done[0].epochs;
    const lossHistory = Array.from({ length: epochs }, (_, e) => done.reduce((a, r) => a + r.lossHistory[e], 0) / K);
    this.fitReport = {
      ...done[0],
      method: 'ensemble',
      backend: tf.getBackend(),
      lossHistory,
      finalLoss: lossHistory[epochs - 1],
      seconds: (performance.now() - started) / 1000,
    };
    const inclusion = done[0].inclusion;
    if (inclusion) {
      // Spike-and-slab: each member has its own inclusion probabilities; the ensemble reports their mean.
      const mean = (pick: (r: FitReport) => number[]) => pick(done[0]).map((_, j) => done.reduce((a, r) => a + pick(r)[j], 0) / K);
      this.fitReport.inclusion = { ...inclusion, perChannel: mean((r) => r.inclusion!.perChannel) };
    }
    return this.fitReport;
  }

  /** Trains members in worker threads, `workers` at a time; fills `reports` for those that finish. */
  private async fitParallel(
    x: Uint8Array,
    y: Int32Array,
    workers: number,
    memberFit: (k: number) => MemberRequest['fit'],
    reports: (FitReport | undefined)[],
    progress: (k: number, p: FitProgress) => void,
    shouldStop?: () => boolean,
  ): Promise<void> {
    const K = this.size;
    const sx = toShared(x);
    const sy = toShared(y);
    const controller = new AbortController();
    let stopped = false;
    const poll = shouldStop
      ? setInterval(() => {
          if (!stopped && shouldStop()) {
            stopped = true;
            controller.abort();
          }
        }, 50)
      : null;
    const backend = tf.getBackend() as BackendName;
    const wasmThreads = Math.max(1, Math.floor(cores() / workers));
    let next = 0;
    const lane = async () => {
      while (next < K && !controller.signal.aborted) {
        const k = next++;
        const request: MemberRequest = { options: this.memberOptions(k), x: sx, y: sy, fit: memberFit(k), backend, wasmThreads };
        const result = await runWorker<MemberRequest, FitProgress, MemberResult>(new URL('./ensembleMemberWorker.ts', import.meta.url), request, {
          signal: controller.signal,
          onProgress: (p) => progress(k, p),
        });
        await this.installMember(k, result);
        reports[k] = result.report;
      }
    };
    const lanes = Array.from({ length: workers }, () =>
      lane().catch((e: unknown) => {
        controller.abort(); // stop the siblings; the caller trains what is missing in this thread
        throw e;
      }),
    );
    try {
      const settled = await Promise.allSettled(lanes);
      if (stopped || (shouldStop?.() ?? false)) throw new CancelledError('fit cancelled');
      const failed = settled.find((s) => s.status === 'rejected' && !(s.reason instanceof JobCancelledError)) as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    } finally {
      if (poll) clearInterval(poll);
    }
  }

  /** Loads a worker's serialised member into member slot k. */
  private async installMember(k: number, r: MemberResult): Promise<void> {
    const net = await Posterior.loadNetwork({ json: r.json, weights: r.weights });
    if (k === 0) {
      try {
        this.net.model.setWeights(net.model.getWeights());
      } finally {
        net.dispose();
      }
      return;
    }
    this.members[k]?.dispose();
    this.members[k] = net;
  }

  /** Checks `samples` ≤ K before predicting. */
  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    if (opts.samples !== undefined && opts.samples > this.size) {
      throw new Error(`ensemble: ${opts.samples} samples requested but the ensemble has ${this.size} members (ensembleSize)`);
    }
    return super.predictiveSamples(x, opts);
  }

  /** Every member runs its whole network: the input is the image batch. */
  protected override predictiveInput(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }

  /** Images x [B,H,W,C] → [S, B, C]: members offset … offset + S − 1, deterministic (dropout off). */
  protected sampleProbs(x: tf.Tensor4D, samples: number, _seed: number, _consistent?: boolean, offset = 0): tf.Tensor3D {
    const outs: tf.Tensor2D[] = [];
    for (let j = 0; j < samples; j++) {
      const m = this.member(offset + j);
      outs.push(tf.tidy(() => tf.softmax(m.logits(x, { dropout: 'none' })) as tf.Tensor2D));
    }
    return tf.stack(outs) as tf.Tensor3D;
  }

  /** Member 0 is the network; members 1 … K−1 follow as extra arrays. */
  override async serialize(): Promise<SerializedPosterior> {
    const s = await super.serialize();
    const arrays = [];
    for (let k = 1; k < this.size; k++) {
      const m = this.member(k);
      const values = await flattenAsync(m.model.getWeights());
      arrays.push({ name: `ensemble/member/${k}`, shape: [values.length], values });
    }
    return appendArrays(s, arrays, { ensemble: { size: this.size, memberSeeds: Array.from({ length: this.size }, (_, k) => ensembleMemberSeed(this.seed, k)) } });
  }

  override dispose(): void {
    if (this.isDisposed) return;
    for (let k = 1; k < this.members.length; k++) this.members[k]?.dispose();
    this.members.fill(null);
    super.dispose();
  }
}

/** Options of 'ensemble' (registry `validate`). */
export function validateEnsembleOptions(o: PosteriorOptions): void {
  if (o.ensembleSize !== undefined && !(Number.isInteger(o.ensembleSize) && o.ensembleSize >= 1)) {
    throw new Error(`ensembleSize must be a positive integer; got ${o.ensembleSize}`);
  }
}
