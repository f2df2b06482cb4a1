/**
 * Posteriors over low-rank adapters on an imported backbone (network.ts):
 *
 * - {@link LoraPosterior}: the shared part — the backbone is loaded on first use (fit, predict,
 *   features, serialize), training is the base class's Adam on mean NLL + wd/2·‖θ‖² over the
 *   adapters and the head only (the backbone is frozen), and serialisation EMBEDS the backbone
 *   (its topology and weights are the posterior's network part; the adapter sets follow as extra
 *   arrays), so a model version predicts without the original folder — its path and the sha256 of
 *   its model.json are kept in `state.lora` for provenance.
 * - {@link LoraEnsemblePosterior} ('lora-ensemble'): K adapter sets + heads from different seeds
 *   (Wang, Aitchison & Rudolph, "LoRA ensembles for large language model fine-tuning", 2023;
 *   deep ensembles, Lakshminarayanan et al. 2017), trained one after the other; S = K.
 */
import * as tf from '@tensorflow/tfjs';
import { appendArrays, readArrays, requireArray, type NamedArray } from '../layers/weightBuffer.ts';
import { DEFAULT_SEED, deriveSeed } from '../util/random.ts';
import { Posterior } from '../posterior/base.ts';
import type { FitOptions, FitReport, PosteriorOptions, PredictOptions, PredictiveSamples, SerializedPosterior } from '../posterior/types.ts';
import { LORA_DEFAULT_RANK, LoraNetwork, type LoraSettings } from './network.ts';

const LORA_ENSEMBLE_DEFAULT_SIZE = 5;

/** `state.lora` of a serialised LoRA posterior. */
export interface LoraState {
  /** The folder or model.json the backbone was imported from, and the sha256 of that model.json. */
  backbonePath: string;
  backboneSha256: string | null;
  featureLayer: string;
  adaptedLayers: string[];
  rank: number;
  alpha: number;
  sets: number;
}

export function loraSettings(o: PosteriorOptions, sets: number): LoraSettings {
  const rank = o.loraRank ?? LORA_DEFAULT_RANK;
  return {
    imageShape: [o.imageSize, o.imageSize, o.channels],
    numClasses: o.numClasses,
    rank,
    alpha: o.loraAlpha ?? rank,
    featureLayer: o.featureLayer,
    seed: o.seed ?? DEFAULT_SEED,
    sets,
  };
}

/** Options of 'lora-ensemble' and 'lora-laplace' (registry `validate`; the folder is checked on creation). */
export function validateLoraOptions(o: PosteriorOptions): void {
  if (typeof o.backbone !== 'string' || o.backbone.trim() === '') {
    throw new Error(`method '${o.method}' needs the option backbone: the folder of a TF.js LayersModel (model.json + weight files) or its model.json`);
  }
  if (o.loraRank !== undefined && !(Number.isInteger(o.loraRank) && o.loraRank >= 1 && o.loraRank <= 1024)) {
    throw new Error(`loraRank must be an integer in [1, 1024]; got ${o.loraRank}`);
  }
  if (o.loraAlpha !== undefined && !(Number.isFinite(o.loraAlpha) && o.loraAlpha > 0)) throw new Error(`loraAlpha must be a number > 0; got ${o.loraAlpha}`);
  if (o.featureLayer !== undefined && !(typeof o.featureLayer === 'string' && o.featureLayer !== '')) throw new Error('featureLayer must be a layer name');
  if (o.ensembleSize !== undefined && !(Number.isInteger(o.ensembleSize) && o.ensembleSize >= 1)) {
    throw new Error(`ensembleSize must be a positive integer; got ${o.ensembleSize}`);
  }
}

/** Names of set k's variables in the serialised extra arrays (order of `setVariables`). */
function variableNames(net: LoraNetwork, k: number): string[] {
  return [...net.adaptedLayers.flatMap((a) => [`${a.name}/A`, `${a.name}/B`]), 'head/kernel', 'head/bias'].map((n) => `lora/${k}/${n}`);
}

/** The backbone and adapter sets of a serialised LoRA posterior (embedded backbone, see the file comment). */
export async function loadLoraNetwork(s: SerializedPosterior, sets: number): Promise<LoraNetwork> {
  const st = s.json.state?.lora as LoraState | undefined;
  if (!st || typeof st.featureLayer !== 'string') throw new Error('deserialize: LoRA posterior without its state.lora');
  if (st.sets !== sets) throw new Error(`deserialize: ${String(st.sets)} adapter sets are stored, ${sets} expected`);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: s.json.modelTopology,
    weightSpecs: s.json.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: s.weights,
  };
  const net = new LoraNetwork({ ...loraSettings(s.json.options, sets), featureLayer: st.featureLayer }, { artifacts, sha256: st.backboneSha256 });
  await net.load();
  try {
    const arrays = readArrays(s);
    for (let k = 0; k < sets; k++) {
      const names = variableNames(net, k);
      net.setVariables(k).forEach((v, i) => {
        const a = requireArray(arrays, names[i], 'LoRA weights');
        if (a.values.length !== v.size) throw new Error(`deserialize: '${names[i]}' has ${a.values.length} values, expected ${v.size}`);
        tf.tidy(() => v.assign(tf.tensor(a.values, v.shape)));
      });
    }
  } catch (e) {
    net.dispose();
    throw e;
  }
  return net;
}

export abstract class LoraPosterior extends Posterior<LoraNetwork> {
  /** `net` is given when deserialising; otherwise the backbone folder of `options.backbone` is checked now. */
  protected constructor(options: PosteriorOptions, sets: number, net?: LoraNetwork) {
    validateLoraOptions(options);
    super(options, net ?? new LoraNetwork(loraSettings(options, sets), { path: options.backbone! }));
  }

  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    await this.net.load();
    return super.fit(x, y, opts);
  }

  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    await this.net.load();
    return super.predictiveSamples(x, opts);
  }

  override async features(x: Uint8Array, opts: { batchSize?: number } = {}): Promise<{ features: Float32Array; shape: [number, number] }> {
    await this.net.load();
    return super.features(x, opts);
  }

  /** The adapters see no dropout: the backbone runs in inference mode. */
  protected override trainingLogits(x: tf.Tensor4D): tf.Tensor2D {
    return this.net.logits(x);
  }

  /** Every adapter set runs the (frozen) backbone itself: the input is the image batch. */
  protected override predictiveInput(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }

  override async serialize(): Promise<SerializedPosterior> {
    await this.net.load();
    const s = await super.serialize();
    const arrays: NamedArray[] = [];
    const K = this.net.settings.sets;
    for (let k = 0; k < K; k++) {
      const names = variableNames(this.net, k);
      for (const [i, v] of this.net.setVariables(k).entries()) arrays.push({ name: names[i], shape: [...v.shape], values: (await v.data()) as Float32Array });
    }
    const lora: LoraState = {
      backbonePath: this.options.backbone!,
      backboneSha256: this.net.backboneSha256,
      featureLayer: this.net.featureLayer,
      adaptedLayers: this.net.adaptedLayers.map((a) => a.name),
      rank: this.net.settings.rank,
      alpha: this.net.settings.alpha,
      sets: K,
    };
    return appendArrays(s, arrays, { lora });
  }
}

export class LoraEnsemblePosterior extends LoraPosterior {
  readonly method = 'lora-ensemble' as const;
  /** K. */
  readonly size: number;
  private memberReports: FitReport[] = [];

  constructor(options: PosteriorOptions, net?: LoraNetwork) {
    const K = options.ensembleSize ?? LORA_ENSEMBLE_DEFAULT_SIZE;
    super(options, K, net);
    this.size = K;
  }

  /** K is the number of stored adapter sets (`state.lora.sets`); options naming another K are refused. */
  static async load(s: SerializedPosterior): Promise<LoraEnsemblePosterior> {
    const sets = (s.json.state?.lora as Partial<LoraState> | undefined)?.sets;
    if (!(Number.isInteger(sets) && sets! >= 1)) throw new Error('deserialize: lora-ensemble without the number of its adapter sets (state.lora.sets)');
    const asked = s.json.options.ensembleSize;
    if (asked !== undefined && asked !== sets) throw new Error(`deserialize: lora-ensemble options say ensembleSize ${asked} but ${sets} adapter sets are stored`);
    return new LoraEnsemblePosterior({ ...s.json.options, ensembleSize: sets }, await loadLoraNetwork(s, sets!));
  }

  /** Each member's report of the last fit. */
  get members(): readonly FitReport[] {
    return this.memberReports;
  }

  protected defaultSamples(): number {
    return this.size;
  }

  /** Trains the K adapter sets in turn, set k with fit seed deriveSeed(seed, k); `fraction` is over all K. */
  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    await this.net.load();
    const K = this.size;
    const fitSeed = opts.seed ?? this.seed;
    const started = performance.now();
    const reports: FitReport[] = [];
    try {
      for (let k = 0; k < K; k++) {
        this.net.active = k;
        reports.push(
          await super.fit(x, y, { ...opts, seed: deriveSeed(fitSeed, k), onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, fraction: (k + p.fraction) / K })) }),
        );
      }
    } finally {
      this.net.active = 0;
    }
    this.memberReports = reports;
    const epochs = reports[0].epochs;
    const lossHistory = Array.from({ length: epochs }, (_, e) => reports.reduce((a, r) => a + r.lossHistory[e], 0) / K);
    this.fitReport = { ...reports[0], lossHistory, finalLoss: lossHistory[epochs - 1], seconds: (performance.now() - started) / 1000 };
    return this.fitReport;
  }

  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    if (opts.samples !== undefined && opts.samples > this.size) {
      throw new Error(`lora-ensemble: ${opts.samples} samples requested but the ensemble has ${this.size} adapter sets (ensembleSize)`);
    }
    return super.predictiveSamples(x, opts);
  }

  /** Images x [B,H,W,C] → [S, B, C]: sets offset … offset + S − 1 (the frozen prefix runs once). */
  protected sampleProbs(x: tf.Tensor4D, samples: number, _seed: number, _consistent?: boolean, offset = 0): tf.Tensor3D {
    const h = this.net.prefix(x);
    const out = Array.from({ length: samples }, (_, j) => tf.softmax(this.net.suffix(h, this.net.weights(offset + j)).logits));
    return tf.stack(out) as tf.Tensor3D;
  }
}
