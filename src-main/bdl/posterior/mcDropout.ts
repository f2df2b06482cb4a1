/**
 * 'mc-dropout': Monte-Carlo dropout, Gal & Ghahramani, "Dropout as a Bayesian Approximation"
 * (ICML 2016), used for active learning by Gal, Islam & Ghahramani (ICML 2017).
 *
 * Predictive samples p_s(y | x) = softmax(f(x; W ⊙ M_s)), M_s ~ Bernoulli masks, s = 1..T
 * (eq. 7 of Gal & Ghahramani 2016: p(y|x,D) ≈ 1/T Σ_s p_s).
 *
 * The trunk (conv, conv, pool) has no dropout, so it is computed ONCE per image; the head is run
 * for T stacked copies of the batch ([T·B, …] rows), which gives the same predictive as T full
 * passes. subsetOfWeights 'last-layer' keeps only the last dropout stochastic (the 128-d features
 * are then computed once too).
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { Posterior } from './base.ts';
import type { PosteriorOptions } from './types.ts';

export class MCDropoutPosterior extends Posterior<ConvNet> {
  readonly method = 'mc-dropout' as const;

  constructor(options: PosteriorOptions, net?: ConvNet) {
    super(options, net);
  }

  protected defaultSamples(): number {
    return this.options.mcSamples ?? 20;
  }

  /**
   * h [B, h', w', F] → [S, B, C] with fresh dropout masks for every (sample, image), or with
   * `consistent` one set of masks per sample shared by every image (mask [S, 1, …]).
   */
  protected sampleProbs(h: tf.Tensor4D, samples: number, seed: number, consistent = false): tf.Tensor3D {
    const b = h.shape[0];
    const c = this.options.numClasses;
    const dropout = this.options.subsetOfWeights === 'last-layer' ? 'last-layer' : 'all';
    // [S·B, C], sample-major: the first stochastic dropout expands B rows to S·B (no tile).
    const logits = this.net.head(h, { dropout, seed, samples, sharedMask: consistent });
    return tf.reshape(tf.softmax(logits), [samples, b, c]) as tf.Tensor3D;
  }
}
