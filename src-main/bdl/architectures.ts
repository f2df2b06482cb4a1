/**
 * The network architectures, declared once (TF.js-free, so the contract, the CLI and the renderer
 * derive their choices from it without loading TF.js). The builders live in models/convNet.ts.
 */

export const IMAGE_SIZES = [28, 64, 128, 224] as const;
export const CHANNELS = [1, 3] as const;

export interface ArchitectureSpec {
  description: string;
  /** Image sizes it trains at within the README's memory budget. */
  imageSizes: readonly number[];
  /** Why the other sizes are refused. */
  refusal?: string;
}

export const ARCHITECTURES = {
  'gal-cnn': {
    description: 'The CNN of Gal et al. 2017 (two 4×4 convolutions, max-pool, dense 128): its dense layer grows with the image.',
    imageSizes: [28, 64, 128],
    refusal: 'at 224 px its dense layer alone has 48.7 M weights and training runs out of wasm memory (4 GiB)',
  },
  resnet: {
    description: 'Residual CNN: 4 stages × 2 blocks (16-32-64-128), GroupNorm, global average pooling; 0.7 M weights at every size.',
    imageSizes: [28, 64, 128, 224],
  },
} as const satisfies Record<string, ArchitectureSpec>;

export type Architecture = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.keys(ARCHITECTURES) as [Architecture, ...Architecture[]];

/** The default of a new project: the Gal CNN at 28 px (the MNIST protocol), the residual CNN from 64 px up. */
export function defaultArchitecture(imageSize: number): Architecture {
  return imageSize <= 28 ? 'gal-cnn' : 'resnet';
}

export function isArchitecture(a: unknown): a is Architecture {
  return typeof a === 'string' && Object.prototype.hasOwnProperty.call(ARCHITECTURES, a);
}

/** Throws a clear Error when `architecture` is unknown or does not fit the image size and channels. */
export function validateArchitecture(architecture: unknown, imageSize: number, channels: number): Architecture {
  if (!isArchitecture(architecture)) {
    throw new Error(`Unknown architecture '${String(architecture)}'. Known architectures: ${ARCHITECTURE_NAMES.join(', ')}`);
  }
  if (!(IMAGE_SIZES as readonly number[]).includes(imageSize)) {
    throw new Error(`imageSize must be one of ${IMAGE_SIZES.join(', ')}; got ${imageSize}`);
  }
  if (!(CHANNELS as readonly number[]).includes(channels)) throw new Error(`channels must be 1 or 3; got ${channels}`);
  const spec: ArchitectureSpec = ARCHITECTURES[architecture];
  if (!spec.imageSizes.includes(imageSize)) {
    throw new Error(
      `architecture '${architecture}' does not fit ${imageSize} px images (it takes ${spec.imageSizes.join(', ')} px: ${spec.refusal}); use --architecture resnet`,
    );
  }
  return architecture;
}
