/**
 * The trunk of the residual CNN (He et al. 2016, "Deep Residual Learning", basic blocks; GroupNorm
 * of Wu & He 2018 instead of BatchNorm, since a few hundred labels give batches of a few images):
 *
 *   x [N,H,W,C] → avg-pool p×p (p = 1, 1, 2, 4 at 28, 64, 128, 224 px: the stages see ≤ 64 px)
 *   → stem: conv 3×3 16 → GN → ReLU                                      [N, H/p, W/p, 16]
 *   → stage 1: 2 blocks, 16 wide, stride 1                                [N, H/p, W/p, 16]
 *   → stage 2: 2 blocks, 32 wide, the first with stride 2                 [N, H/2p, W/2p, 32]
 *   → stage 3: 64 wide, stride 2 → stage 4: 128 wide, stride 2           [N, H/8p, W/8p, 128]
 *   → global average pooling                                              [N, 1, 1, 128]
 *
 * block(x) = ReLU(GN(conv₂(ReLU(GN(conv₁(x, stride))))) + shortcut(x)), shortcut = x, or
 * GN(conv 1×1, stride) when the width or the resolution changes. Convolutions 'same', no bias
 * (GN's β is the bias). The weight count does not depend on the image size (about 0.70 M).
 *
 * One function, {@link residualTrunkWith}, is both the layer's forward pass and the trunk with
 * explicit weights that IVON and SGLD draw — so the two cannot drift apart.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SEED, deriveSeed } from '../util/random.ts';
import { addHead, validateNetworkInput, type GalCnnConfig } from './galCnn.ts';

export const RESNET_WIDTHS = [16, 32, 64, 128] as const;
const BLOCKS_PER_STAGE = 2;
const GROUPS = 8;
const GN_EPSILON = 1e-5;

/** Input average-pooling factor for an image size: the stages run at ≤ 64 px. */
export function inputPoolFor(imageSize: number): number {
  return Math.max(1, Math.floor(imageSize / 56));
}

interface ConvSpec {
  name: string;
  kernel: number;
  inChannels: number;
  outChannels: number;
  stride: number;
}

interface BlockSpec {
  conv1: ConvSpec;
  conv2: ConvSpec;
  projection: ConvSpec | null;
}

/** The blocks of the trunk in order (names are the weight names, stable across versions). */
function blockSpecs(): BlockSpec[] {
  const blocks: BlockSpec[] = [];
  let inChannels: number = RESNET_WIDTHS[0];
  RESNET_WIDTHS.forEach((width, s) => {
    for (let b = 0; b < BLOCKS_PER_STAGE; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const name = `stage${s + 1}_block${b + 1}`;
      blocks.push({
        conv1: { name: `${name}_conv1`, kernel: 3, inChannels, outChannels: width, stride },
        conv2: { name: `${name}_conv2`, kernel: 3, inChannels: width, outChannels: width, stride: 1 },
        projection: stride !== 1 || inChannels !== width ? { name: `${name}_proj`, kernel: 1, inChannels, outChannels: width, stride } : null,
      });
      inChannels = width;
    }
  });
  return blocks;
}

/** Every convolution in weight order; each is followed by its GroupNorm's γ and β. */
function convSpecs(channels: number): ConvSpec[] {
  const stem: ConvSpec = { name: 'stem', kernel: 3, inChannels: channels, outChannels: RESNET_WIDTHS[0], stride: 1 };
  return [stem, ...blockSpecs().flatMap((b) => (b.projection ? [b.conv1, b.conv2, b.projection] : [b.conv1, b.conv2]))];
}

/**
 * GroupNorm: x [N,H,W,C] normalised over (H, W, C/G) within each of G channel groups, then
 * γ [C] ⊙ · + β [C]. Statistics are per image, so a batch of one trains as well as a batch of 64.
 */
export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups = GROUPS): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const g = Math.min(groups, c);
    const grouped = tf.reshape(x, [n, h, w, g, c / g]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normalised = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, GN_EPSILON)));
    return tf.add(tf.mul(tf.reshape(normalised, [n, h, w, c]), gamma), beta) as tf.Tensor4D;
  });
}

/**
 * The trunk with explicit weights (order of {@link residualTrunkShapes}): x [N,H,W,C] float32 →
 * [N, 1, 1, 128]. Used as the layer's forward pass and by the posteriors that sample weights.
 */
export function residualTrunkWith(x: tf.Tensor4D, weights: readonly tf.Tensor[], inputPool: number): tf.Tensor4D {
  return tf.tidy(() => {
    let next = 0;
    const take = () => {
      const w = weights[next++];
      if (!w) throw new Error(`residual trunk: ${weights.length} weight tensors, more expected`);
      return w;
    };
    const convNorm = (h: tf.Tensor4D, spec: ConvSpec) =>
      groupNorm(tf.conv2d(h, take() as tf.Tensor4D, spec.stride, 'same'), take(), take());
    let h = inputPool > 1 ? tf.avgPool(x, inputPool, inputPool, 'valid') : x;
    h = tf.relu(convNorm(h, convSpecs(x.shape[3])[0]));
    for (const block of blockSpecs()) {
      const a = tf.relu(convNorm(h, block.conv1));
      const b = convNorm(a, block.conv2);
      const shortcut = block.projection ? convNorm(h, block.projection) : h;
      h = tf.relu(tf.add(b, shortcut)) as tf.Tensor4D;
    }
    if (next !== weights.length) throw new Error(`residual trunk: ${weights.length} weight tensors, ${next} expected`);
    return tf.mean(h, [1, 2], true) as tf.Tensor4D;
  });
}

/** Shapes of the trunk's weights in order: per convolution [k,k,Cin,Cout], then γ [Cout], β [Cout]. */
export function residualTrunkShapes(channels: number): { name: string; shape: number[]; kind: 'kernel' | 'gamma' | 'beta' }[] {
  return convSpecs(channels).flatMap((c) => [
    { name: `${c.name}/kernel`, shape: [c.kernel, c.kernel, c.inChannels, c.outChannels], kind: 'kernel' as const },
    { name: `${c.name}/gamma`, shape: [c.outChannels], kind: 'gamma' as const },
    { name: `${c.name}/beta`, shape: [c.outChannels], kind: 'beta' as const },
  ]);
}

interface ResidualTrunkArgs {
  name?: string;
  inputShape?: number[];
  inputPool: number;
  seed: number;
}

/** The trunk as one tfjs layer (serialisable; its weights are those of {@link residualTrunkShapes}). */
export class ResidualTrunk extends tf.layers.Layer {
  static readonly className = 'EpistemeResidualTrunk';
  private readonly inputPool: number;
  private readonly seed: number;

  constructor(args: ResidualTrunkArgs) {
    super(args);
    this.inputPool = args.inputPool;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    residualTrunkShapes(shape[3]!).forEach((w, i) => {
      // He-normal kernels (fan-in, ReLU gain); GroupNorm starts as the identity.
      const init =
        w.kind === 'kernel'
          ? tf.initializers.heNormal({ seed: deriveSeed(this.seed, 200 + i) })
          : w.kind === 'gamma'
            ? tf.initializers.ones()
            : tf.initializers.zeros();
      this.addWeight(w.name, w.shape, 'float32', init);
    });
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], 1, 1, RESNET_WIDTHS[RESNET_WIDTHS.length - 1]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return residualTrunkWith(x, this.trainableWeights.map((w) => w.read()), this.inputPool);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inputPool: this.inputPool, seed: this.seed };
  }
}
tf.serialization.registerClass(ResidualTrunk);

/** The residual CNN: {@link ResidualTrunk} ('trunk') and the head every architecture shares (galCnn.ts). */
export function buildResNet(config: GalCnnConfig): tf.Sequential {
  validateNetworkInput(config, 'resnet');
  const seed = config.seed ?? DEFAULT_SEED;
  const model = tf.sequential({ name: 'resnet' });
  model.add(new ResidualTrunk({ name: 'trunk', inputShape: [config.imageSize, config.imageSize, config.channels], inputPool: inputPoolFor(config.imageSize), seed }));
  addHead(model, config, seed);
  return model;
}
