/**
 * Low-rank adapters on an imported, frozen backbone (LoRA: Hu et al., "LoRA: Low-Rank Adaptation
 * of Large Language Models", ICLR 2022): every adapted Dense layer computes
 *
 *   s = x W + b + (α/r) · (x A) B,   y = act(s)     A [in, r], B [r, out]
 *
 * with the backbone's W, b frozen; A starts U(±1/√in) (as peft's Kaiming-uniform) and B = 0, so an
 * untrained adapter reproduces the backbone exactly. A new Dense head [D, C] (Glorot, zero bias)
 * maps the backbone's features to the project's classes.
 *
 * Which layer gives the features ("the cut", `featureLayer`): by default, when the backbone ends in
 * a Dense layer followed only by parameter-free layers (Activation, Softmax, Dropout) — its own
 * class layer — the features are the output of the layer before that Dense layer; otherwise the
 * backbone's output. The features must be flat [B, D]. Adapted layers: every Dense layer up to and
 * including the cut (all of the feature extractor's Dense layers; convolutions stay frozen).
 *
 * The backbone must be a chain of layers (Sequential, or functional without branches) whose input
 * is the project's image [H, W, C] or its flattening [H·W·C], in [0, 1] like the project's own
 * networks. Its layers run in inference mode (Dropout off, BatchNorm moving statistics).
 *
 * `K` adapter sets (with their heads) share one backbone: set k is initialised from
 * deriveSeed(seed, k); `active` picks the set `logits` and `trainableVariables` use.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../util/random.ts';
import { inspectLayersModelFolder, loadLayersModelFromArtifacts, loadLayersModelFromDisk } from './io.ts';

export const LORA_DEFAULT_RANK = 4;
/** Layers that may follow a backbone's class layer (no weights). */
const PASS_THROUGH = new Set(['Activation', 'Softmax', 'Dropout', 'ReLU', 'LeakyReLU', 'ELU']);

export interface LoraSettings {
  /** H, W, C of the project's images. */
  imageShape: [number, number, number];
  numClasses: number;
  /** r, the adapters' rank. */
  rank: number;
  /** α; the update is scaled by α / r (Hu et al. §4.1). */
  alpha: number;
  /** Name of the backbone layer whose output are the features (default: see the file comment). */
  featureLayer?: string;
  seed: number;
  /** K, the number of adapter sets. */
  sets: number;
}

/** A folder (or model.json) on disk, or an embedded backbone with the sha256 of its original model.json. */
export type BackboneSource = { path: string } | { artifacts: tf.io.ModelArtifacts; sha256: string | null };

/** One adapted Dense layer of the backbone (its frozen weights are the layer's own). */
export interface AdaptedLayer {
  name: string;
  /** Index in the chain. */
  index: number;
  in: number;
  out: number;
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D | null;
  activation: tf.layers.Layer;
}

/** Adapter and head weights as tensors (variables of a set, or a posterior sample). */
export interface LoraWeights {
  /** A_l [in_l, r] per adapted layer. */
  A: tf.Tensor2D[];
  /** B_l [r, out_l]. */
  B: tf.Tensor2D[];
  /** Head kernel [D, C] and bias [C]. */
  headKernel: tf.Tensor2D;
  headBias: tf.Tensor1D;
}

export interface SuffixResult {
  logits: tf.Tensor2D;
  /** Features [B, D] (head input). */
  features: tf.Tensor2D;
  /** Input x_l [B, in_l] of every adapted layer. */
  inputs: tf.Tensor2D[];
}

interface Loaded {
  model: tf.LayersModel;
  /** The backbone's layers in order, without the InputLayer, up to and including the cut. */
  chain: tf.layers.Layer[];
  adapted: AdaptedLayer[];
  featureLayer: string;
  featureDim: number;
  flatInput: boolean;
  sets: tf.Variable[][];
  /** sha256 of the backbone's model.json. */
  sha256: string | null;
}

/**
 * The backbone (loaded on first use, {@link LoraNetwork.load}) + K adapter sets. Tensor methods
 * return new tensors and leak nothing; call them inside tf.tidy or dispose the results.
 */
export class LoraNetwork {
  private loaded: Loaded | null = null;
  private loading: Promise<void> | null = null;
  /** Index of the adapter set used by `logits` and `trainableVariables`. */
  active = 0;

  /** Checks the folder (or nothing, for embedded artifacts) now; reads the weights in `load`. */
  constructor(
    readonly settings: LoraSettings,
    private readonly source: BackboneSource,
  ) {
    if ('path' in source) checkBackbone(source.path, settings.imageShape);
  }

  /** Loads the backbone and creates the adapter sets (idempotent; after a failure the next call tries again). */
  load(): Promise<void> {
    return (this.loading ??= this.doLoad().catch((e: unknown) => {
      this.loading = null;
      throw e;
    }));
  }

  private async doLoad(): Promise<void> {
    const s = this.settings;
    let model: tf.LayersModel;
    let sha256: string | null = null;
    let where: string;
    if ('path' in this.source) {
      const r = await loadLayersModelFromDisk(this.source.path);
      model = r.model;
      sha256 = r.folder.sha256;
      where = r.folder.modelJsonPath;
    } else {
      model = await loadLayersModelFromArtifacts(this.source.artifacts);
      sha256 = this.source.sha256;
      where = 'the embedded backbone';
    }
    const sets: tf.Variable[][] = [];
    try {
      const all = chainOf(model, where);
      const flatInput = checkInputShape(model.inputs[0].shape.slice(1) as number[], s.imageShape, where);
      const cut = featureIndex(all, s.featureLayer, where);
      const chain = all.slice(0, cut + 1);
      const outShape = chain[cut].outputShape as (number | null)[];
      if (outShape.length !== 2 || outShape[1] === null) {
        throw new Error(`backbone: feature layer '${chain[cut].name}' of ${where} outputs [${outShape.join(', ')}]; the head needs flat features [B, D] — name a Flatten, pooling or Dense layer as the feature layer`);
      }
      const adapted = adaptedLayers(chain, where);
      for (let k = 0; k < s.sets; k++) sets.push(createSet(adapted, outShape[1]!, s.numClasses, s.rank, deriveSeed(s.seed, k)));
      this.loaded = { model, chain, adapted, featureLayer: chain[cut].name, featureDim: outShape[1]!, flatInput, sets, sha256 };
    } catch (e) {
      tf.dispose(sets.flat());
      model.dispose();
      throw e;
    }
  }

  private get l(): Loaded {
    if (!this.loaded) throw new Error('lora: the backbone is not loaded yet (await load())');
    return this.loaded;
  }

  /** The frozen backbone model (its whole topology, also the layers after the cut). */
  get model(): tf.LayersModel {
    return this.l.model;
  }

  get featureDim(): number {
    return this.l.featureDim;
  }

  get featureLayer(): string {
    return this.l.featureLayer;
  }

  get adaptedLayers(): readonly AdaptedLayer[] {
    return this.l.adapted;
  }

  /** sha256 of the backbone's model.json (null if unknown). */
  get backboneSha256(): string | null {
    return this.l.sha256;
  }

  get scale(): number {
    return this.settings.alpha / this.settings.rank;
  }

  /** Variables of set k: A_1, B_1, …, A_L, B_L, head kernel, head bias. */
  setVariables(k: number): tf.Variable[] {
    const v = this.l.sets[k];
    if (!v) throw new Error(`lora: no adapter set ${k} (K = ${this.l.sets.length})`);
    return v;
  }

  /** The active set's variables (what a fit optimises). */
  get trainableVariables(): tf.Variable[] {
    return this.setVariables(this.active);
  }

  /** Set k's variables as {@link LoraWeights} (the variables themselves, not copies). */
  weights(k: number): LoraWeights {
    const v = this.setVariables(k);
    const L = this.l.adapted.length;
    return {
      A: v.slice(0, 2 * L).filter((_, i) => i % 2 === 0) as tf.Tensor2D[],
      B: v.slice(0, 2 * L).filter((_, i) => i % 2 === 1) as tf.Tensor2D[],
      headKernel: v[2 * L] as tf.Tensor2D,
      headBias: v[2 * L + 1] as tf.Tensor1D,
    };
  }

  /** Images x [B, H, W, C] in [0, 1] → input of the first adapted layer (frozen layers only). */
  prefix(x: tf.Tensor4D): tf.Tensor {
    const { chain, adapted, flatInput } = this.l;
    return tf.tidy(() => {
      let h: tf.Tensor = flatInput ? tf.reshape(x, [x.shape[0], -1]) : x;
      for (let i = 0; i < adapted[0].index; i++) h = chain[i].apply(h, { training: false }) as tf.Tensor;
      return h;
    });
  }

  /**
   * Prefix output h → logits [B, C] with the given adapter weights. `eps[l]` [B, out_l] (optional)
   * is added to adapted layer l's pre-activation: its gradient is ∂/∂s_l (the curvature's δ).
   */
  suffix(h: tf.Tensor, w: LoraWeights, eps?: tf.Tensor[]): SuffixResult {
    const { chain, adapted } = this.l;
    return tf.tidy(() => {
      const inputs: tf.Tensor2D[] = [];
      let x = h;
      let l = 0;
      for (let i = adapted[0].index; i < chain.length; i++) {
        const a = adapted[l];
        if (a && a.index === i) {
          const xi = x as tf.Tensor2D;
          inputs.push(xi);
          let s: tf.Tensor = tf.matMul(xi, a.kernel);
          if (a.bias) s = tf.add(s, a.bias);
          s = tf.add(s, tf.mul(tf.matMul(tf.matMul(xi, w.A[l]), w.B[l]), this.scale));
          if (eps) s = tf.add(s, eps[l]);
          x = a.activation.apply(s) as tf.Tensor;
          l++;
        } else {
          x = chain[i].apply(x, { training: false }) as tf.Tensor;
        }
      }
      const features = x as tf.Tensor2D;
      const logits = tf.add(tf.matMul(features, w.headKernel), w.headBias) as tf.Tensor2D;
      return { logits, features, inputs };
    });
  }

  /** x [B, H, W, C] → logits [B, C] of the active set (the backbone is deterministic). */
  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.suffix(this.prefix(x), this.weights(this.active)).logits);
  }

  /** The base class's "trunk" (run once per image): the images themselves. */
  trunk(x: tf.Tensor4D): tf.Tensor4D {
    return tf.clone(x);
  }

  /** Features [B, D] of the active set for images x. */
  penultimate(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.suffix(this.prefix(x), this.weights(this.active)).features);
  }

  dispose(): void {
    if (!this.loaded) return;
    this.loaded.sets.flat().forEach((v) => v.dispose());
    this.loaded.model.dispose();
    this.loaded = null;
  }
}

/**
 * Checks a backbone folder (or model.json) without loading it: files present and complete, a
 * LayersModel, and an input that fits images of `imageShape` [H, W, C] when the topology states it.
 */
export function checkBackbone(p: string, imageShape: [number, number, number]): void {
  const { inputShape, jsonPath } = inspectLayersModelFolder(p);
  if (inputShape) checkInputShape(inputShape, imageShape, jsonPath);
}

/** The backbone's layers as a chain (no branches, no shared layers), without the InputLayer. */
function chainOf(model: tf.LayersModel, where: string): tf.layers.Layer[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`backbone: ${where} has ${model.inputs.length} inputs and ${model.outputs.length} outputs; LoRA needs a single-input, single-output chain of layers`);
  }
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  layers.forEach((layer, i) => {
    const nodes = layer.inboundNodes;
    const from = nodes.length === 1 ? nodes[0].inboundLayers : [];
    const previous = from.length === 1 ? from[0] : null;
    const ok = previous !== null && (i === 0 ? previous.getClassName() === 'InputLayer' || previous === layer : previous === layers[i - 1]);
    // A Sequential's first layer may carry its own input node (no inbound layer).
    if (!ok && !(i === 0 && nodes.length === 1 && from.length <= 1)) {
      throw new Error(`backbone: layer '${layer.name}' of ${where} is not fed by the previous layer; only chains of layers (Sequential-like models) are supported`);
    }
  });
  if (layers.length === 0) throw new Error(`backbone: ${where} has no layers`);
  return layers;
}

/** Checks the backbone input against the project's images; true when it takes flat vectors. */
function checkInputShape(shape: readonly number[], [H, W, C]: [number, number, number], where: string): boolean {
  if (shape.length === 3 && shape[0] === H && shape[1] === W && shape[2] === C) return false;
  if (shape.length === 1 && shape[0] === H * W * C) return true;
  throw new Error(
    `backbone: ${where} takes inputs of shape [${shape.join(', ')}] but the project's images are ${H}×${W}×${C}; the backbone must take [${H}, ${W}, ${C}] (or flat [${H * W * C}])`,
  );
}

function featureIndex(chain: tf.layers.Layer[], name: string | undefined, where: string): number {
  if (name !== undefined) {
    const i = chain.findIndex((l) => l.name === name);
    if (i < 0) throw new Error(`backbone: ${where} has no layer '${name}' (layers: ${chain.map((l) => l.name).join(', ')})`);
    return i;
  }
  let last = chain.length - 1;
  while (last >= 0 && PASS_THROUGH.has(chain[last].getClassName())) last--;
  if (last >= 0 && chain[last].getClassName() === 'Dense') {
    if (last === 0) throw new Error(`backbone: ${where} is a single Dense layer; nothing is left as a feature extractor`);
    return last - 1;
  }
  return chain.length - 1;
}

function adaptedLayers(chain: tf.layers.Layer[], where: string): AdaptedLayer[] {
  const out: AdaptedLayer[] = [];
  chain.forEach((layer, index) => {
    if (layer.getClassName() !== 'Dense') return;
    const inShape = layer.inputSpec?.[0]?.ndim ?? (layer.input as tf.SymbolicTensor).shape.length;
    if (inShape !== 2) throw new Error(`backbone: Dense layer '${layer.name}' of ${where} acts on rank-${inShape} inputs; LoRA adapts Dense layers on flat inputs only`);
    const [kernel, bias] = layer.getWeights();
    const cfg = layer.getConfig() as { activation?: string };
    const [din, dout] = kernel.shape as [number, number];
    out.push({
      name: layer.name,
      index,
      in: din,
      out: dout,
      kernel: kernel as tf.Tensor2D,
      bias: (bias as tf.Tensor1D | undefined) ?? null,
      activation: tf.layers.activation({ activation: (cfg.activation ?? 'linear') as 'linear' }),
    });
  });
  if (out.length === 0) {
    throw new Error(`backbone: ${where} has no Dense layer up to its feature layer '${chain[chain.length - 1].name}'; LoRA adapts Dense layers`);
  }
  return out;
}

/** A_l ~ U(±1/√in), B_l = 0 for every adapted layer, head Glorot-uniform with zero bias. */
function createSet(adapted: AdaptedLayer[], D: number, C: number, r: number, seed: number): tf.Variable[] {
  // Variables outlive tf.tidy: a throw half-way must dispose the ones already made.
  const vars: tf.Variable[] = [];
  try {
    tf.tidy(() => {
      adapted.forEach((a, l) => {
        const bound = 1 / Math.sqrt(a.in);
        vars.push(tf.variable(tf.randomUniform([a.in, r], -bound, bound, 'float32', deriveSeed(seed, 2 * l)), true));
        vars.push(tf.variable(tf.zeros([r, a.out]), true));
      });
      vars.push(tf.variable(tf.initializers.glorotUniform({ seed: deriveSeed(seed, 9_999) }).apply([D, C]) as tf.Tensor2D, true));
      vars.push(tf.variable(tf.zeros([C]), true));
    });
  } catch (e) {
    tf.dispose(vars);
    throw e;
  }
  return vars;
}

/** Number of trainable parameters of one set: Σ_l r·(in_l + out_l) + (D + 1)·C. */
export function loraParameterCount(net: LoraNetwork): number {
  const r = net.settings.rank;
  return net.adaptedLayers.reduce((s, a) => s + r * (a.in + a.out), 0) + (net.featureDim + 1) * net.settings.numClasses;
}
