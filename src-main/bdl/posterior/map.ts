/**
 * 'map': the maximum-a-posteriori network (weight decay ↔ Gaussian prior, L1 ↔ Laplace prior).
 * Predictive: the deterministic network (dropout off, i.e. weight scaling), one sample: S = 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { Posterior } from './base.ts';
import type { PosteriorOptions } from './types.ts';

export class MapPosterior extends Posterior<ConvNet> {
  readonly method = 'map' as const;

  constructor(options: PosteriorOptions, net?: ConvNet) {
    super(options, net);
  }

  protected defaultSamples(): number {
    return 1;
  }

  /** h [B, h', w', F] → [S, B, C]: the same deterministic softmax repeated S times. */
  protected sampleProbs(h: tf.Tensor4D, samples: number): tf.Tensor3D {
    const p = tf.softmax(this.net.head(h, { dropout: 'none' }));
    const p3 = tf.expandDims(p, 0) as tf.Tensor3D;
    return samples === 1 ? p3 : (tf.tile(p3, [samples, 1, 1]) as tf.Tensor3D);
  }
}
