/**
 * Every method on the same MNIST task (issue 4's table): the first `labels` pool images for training,
 * images 8000–9999 for testing, the Gal et al. CNN, the same seed, epochs, batch and optimiser.
 *
 * Post hoc methods are fitted on the MAP network itself, as the methods are defined: MC dropout is
 * that network with its dropout kept on at prediction, Laplace and the Bayesian last layer add their
 * curvature / head to it. Their training time is the MAP's plus their own post hoc step.
 * The LoRA methods adapt a backbone trained on the same labelled images (mnistBackbone.ts); their
 * time includes the backbone's training.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMnist, sliceMnist, type MnistSet } from '../bdl/data/mnist.ts';
import { evaluate } from '../bdl/metrics.ts';
import { meanProbs } from '../bdl/acquisition/index.ts';
import { createPosterior, deserializePosterior } from '../bdl/posterior/registry.ts';
import type { Posterior } from '../bdl/posterior/base.ts';
import { LaplacePosterior } from '../bdl/posterior/laplace.ts';
import { LastLayerPosterior } from '../bdl/posterior/lastLayer.ts';
import type { PosteriorOptions } from '../bdl/posterior/types.ts';
import { trainMnistBackbone } from './mnistBackbone.ts';
import { COMPARED_METHODS, type ComparedMethod } from './comparedMethods.ts';

const POST_HOC: ReadonlySet<ComparedMethod> = new Set(['mc-dropout', 'laplace', 'last-layer']);
const ON_BACKBONE: ReadonlySet<ComparedMethod> = new Set(['lora-ensemble', 'lora-laplace']);
/**
 * Settings beside each method's defaults. Laplace: τ by 2-fold cross-validation, since with 1,000
 * labels the marglik τ leaves the posterior far too wide (see LaplacePosterior.tunePriorPrecision).
 */
const COMPARED_SETTINGS: Partial<Record<ComparedMethod, Partial<PosteriorOptions>>> = {
  laplace: { priorPrecisionMethod: 'cross-validation' },
};

export interface MethodRow {
  method: ComparedMethod;
  accuracy: number;
  nll: number;
  ece: number;
  brier: number;
  /** Seconds to fit (post hoc methods: the MAP's training plus their own step). */
  trainSeconds: number;
  /** Seconds for the predictive on the test images. */
  predictSeconds: number;
  /** Predictive samples S. */
  samples: number;
}

export interface ComparisonOptions {
  methods?: readonly ComparedMethod[];
  /** Training images: the first `labels` of the pool side (default 1000). */
  labels?: number;
  epochs?: number;
  /** Predictive samples T of the stochastic methods (default 20). */
  samples?: number;
  seed?: number;
  onRow?(row: MethodRow): void;
  onStatus?(message: string): void;
}

interface Task {
  train: MnistSet;
  test: MnistSet;
  base: Omit<PosteriorOptions, 'method'>;
  /** No learning rate: Adam's default 1e-3 for Adam-trained methods, IVON and SGLD keep their own. */
  fit: { epochs: number; batchSize: number; weightDecay: number };
}

async function scoreOn(post: Posterior, task: Task, method: ComparedMethod, trainSeconds: number): Promise<MethodRow> {
  const started = performance.now();
  const p = await post.predictiveSamples(task.test.images);
  const predictSeconds = (performance.now() - started) / 1000;
  const r = evaluate(meanProbs(p), task.test.labels, task.base.numClasses);
  return { method, accuracy: r.accuracy, nll: r.nll, ece: r.ece, brier: r.brier, trainSeconds, predictSeconds, samples: p.shape[0] };
}

/** A post hoc method on a copy of the trained MAP network; returns it with the seconds of its own step. */
async function postHoc(map: Posterior, method: ComparedMethod, task: Task): Promise<{ post: Posterior; seconds: number }> {
  const s = await map.serialize();
  const options: PosteriorOptions = { ...task.base, ...COMPARED_SETTINGS[method], method };
  s.json = { ...s.json, method, options };
  const post = await deserializePosterior(s);
  const started = performance.now();
  try {
    if (post instanceof LaplacePosterior) {
      await post.fitCurvature(task.train.images, task.train.labels);
      if (options.priorPrecisionMethod === 'cross-validation') await post.crossValidatePriorPrecision(task.train.images, task.train.labels, task.fit);
    } else if (post instanceof LastLayerPosterior) {
      const { features, shape } = await post.features(task.train.images);
      await post.fitHead(features, shape[1], task.train.labels);
    }
  } catch (error) {
    post.dispose();
    throw error;
  }
  return { post, seconds: (performance.now() - started) / 1000 };
}

async function trainBackbone(task: Task, options: ComparisonOptions): Promise<{ dir: string; seconds: number }> {
  options.onStatus?.('backbone for the LoRA methods: training');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-mnist-backbone-'));
  const started = performance.now();
  try {
    await trainMnistBackbone(task.train, dir, { epochs: task.fit.epochs, batchSize: task.fit.batchSize, seed: task.base.seed ?? 0 });
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, seconds: (performance.now() - started) / 1000 };
}

/**
 * Trains and evaluates each method in turn (one at a time, so each has the machine to itself);
 * rows come back in the order of `methods`.
 */
export async function compareMethods(mnistDir: string, options: ComparisonOptions = {}): Promise<MethodRow[]> {
  const methods = options.methods ?? COMPARED_METHODS;
  const labels = options.labels ?? 1000;
  const mnist = readMnist(mnistDir);
  const task: Task = {
    train: sliceMnist(mnist, 0, labels),
    test: sliceMnist(mnist, 8000, 10_000),
    base: { imageSize: mnist.imageSize, channels: 1, numClasses: 10, seed: options.seed ?? 0, mcSamples: options.samples ?? 20 },
    fit: { epochs: options.epochs ?? 20, batchSize: 64, weightDecay: 1e-4 },
  };
  const rows = new Map<ComparedMethod, MethodRow>();
  const done = (row: MethodRow) => {
    rows.set(row.method, row);
    options.onRow?.(row);
  };
  const needsMap = methods.some((m) => m === 'map' || POST_HOC.has(m));
  if (needsMap) {
    options.onStatus?.('map: training');
    const map = createPosterior({ ...task.base, method: 'map' });
    try {
      const fit = await map.fit(task.train.images, task.train.labels, task.fit);
      if (methods.includes('map')) done(await scoreOn(map, task, 'map', fit.seconds));
      for (const method of methods.filter((m) => POST_HOC.has(m))) {
        options.onStatus?.(`${method}: post hoc on the MAP network`);
        const { post, seconds } = await postHoc(map, method, task);
        try {
          done(await scoreOn(post, task, method, fit.seconds + seconds));
        } finally {
          post.dispose();
        }
      }
    } finally {
      map.dispose();
    }
  }
  const backbone = methods.some((m) => ON_BACKBONE.has(m)) ? await trainBackbone(task, options) : null;
  try {
    for (const method of methods.filter((m) => m !== 'map' && !POST_HOC.has(m))) {
      options.onStatus?.(`${method}: training`);
      const onBackbone = ON_BACKBONE.has(method) && backbone;
      const post = createPosterior({ ...task.base, ...COMPARED_SETTINGS[method], method, ...(onBackbone ? { backbone: backbone.dir } : {}) });
      try {
        const fit = await post.fit(task.train.images, task.train.labels, task.fit);
        done(await scoreOn(post, task, method, fit.seconds + (onBackbone ? backbone.seconds : 0)));
      } finally {
        post.dispose();
      }
    }
  } finally {
    if (backbone) fs.rmSync(backbone.dir, { recursive: true, force: true });
  }
  return methods.map((m) => rows.get(m)!);
}
