/**
 * One active-learning run with an oracle (runs inside the simulator's worker thread):
 *
 *   labelled ← class-balanced random initial set
 *   for round = 0..rounds:
 *     train a FRESH network on the labelled images (new initialisation each round, as Gal et al.
 *       2017 retrain from scratch after every acquisition)
 *     evaluate on the held-out set: accuracy, NLL, ECE, Brier of the predictive mean
 *     unless last (or at the target accuracy): score the unlabelled pool (or a random subset),
 *       pick `step` images with the acquisition function (or the warm start), reveal their labels
 *
 * The pool is scored with consistent MC-dropout masks (the same S weight samples for every image),
 * which BatchBALD needs and which changes nothing for the per-image scores.
 */
import {
  bald,
  baldScores,
  batchBald,
  createPosterior,
  evaluate,
  getAcquisition,
  meanProbs,
  powerAcquisition,
  randomAcquisition,
  topK,
  type PredictiveSamples,
} from '../bdl/index.ts';
import { deriveSeed, permutation } from '../bdl/util/random.ts';
import { gatherRows } from '../bdl/util/rows.ts';
import { defaultEpochs } from '../jobs/training.ts';
import { balancedInitial, kCenterGreedy, pixelFeatures } from './coldStart.ts';
import type { RunProgress, RunRequest } from './protocol.ts';
import { stoppingSignal, type ModelSnapshot } from './stopping.ts';
import type { RoundRecord } from './types.ts';

function argmaxRows(mean: Float32Array, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (mean[i * c + k] > mean[i * c + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** Positions (into the scored candidates) of the next batch. */
function selectPositions(req: RunRequest, p: PredictiveSamples, k: number, seed: number): Int32Array {
  switch (req.acquisition) {
    case 'batchbald':
      return batchBald(p, k, { samples: req.batchBaldSamples, seed }).indices;
    case 'power-bald':
      return topK(powerAcquisition(bald, req.powerBeta, seed).score(p), k, 'max');
    case 'random':
      return topK(randomAcquisition(seed).score(p), k, 'max');
    default: {
      const acq = getAcquisition(req.acquisition);
      return topK(acq.score(p), k, acq.direction);
    }
  }
}

export async function runActiveLearning(
  req: RunRequest,
  hooks: { onProgress?(p: RunProgress): void } = {},
): Promise<{ records: RoundRecord[]; seconds: number }> {
  const started = performance.now();
  const per = req.imageSize * req.imageSize * req.channels;
  const poolCount = req.poolY.length;
  const C = req.numClasses;
  const labelled: number[] = Array.from(balancedInitial(req.poolY, Math.min(req.initial, poolCount), C, deriveSeed(req.runSeed, 1)));
  const isLabelled = new Uint8Array(poolCount);
  for (const i of labelled) isLabelled[i] = 1;
  const testIds = Int32Array.from(req.testY.keys());
  const records: RoundRecord[] = [];
  let previous: ModelSnapshot | null = null;
  let selectedBy = 'initial';
  const report = (round: number, phase: 'training' | 'evaluating' | 'acquiring', fraction: number) => hooks.onProgress?.({ kind: 'phase', round, phase, fraction });

  for (let round = 0; round <= req.rounds; round++) {
    const roundStarted = performance.now();
    const trainX = gatherRows(req.poolX, per, labelled);
    const trainY = Int32Array.from(labelled, (i) => req.poolY[i]);
    const epochs = req.epochs ?? defaultEpochs(labelled.length, req.batchSize);
    const posterior = createPosterior({
      method: req.method,
      architecture: req.architecture,
      imageSize: req.imageSize,
      channels: req.channels,
      numClasses: C,
      seed: deriveSeed(req.runSeed, 1000 + round),
      mcSamples: req.samples,
      backbone: req.backbone,
      prior: req.prior,
      priorPrecision: req.priorPrecision,
    });
    try {
      const fit = await posterior.fit(trainX, trainY, {
        epochs,
        batchSize: req.batchSize,
        learningRate: req.learningRate,
        weightDecay: req.weightDecay,
        onProgress: (p) => report(round, 'training', 0.75 * p.fraction),
      });

      report(round, 'evaluating', 0.75);
      // S = the method's own (mcSamples = req.samples for sampling methods, 1 for 'map', K members for an ensemble).
      const held = await posterior.predictiveSamples(req.testX);
      const mean = meanProbs(held);
      const metrics = evaluate(mean, req.testY, C);
      const current: ModelSnapshot = { ids: testIds, predicted: argmaxRows(mean, req.testY.length, C), nLabels: labelled.length };

      // Score the unlabelled pool and pick the next batch (not after the last round).
      const acquireStarted = performance.now();
      let maxEpistemic: number | null = null;
      let nextBatch: number[] = [];
      let nextSelectedBy = '';
      const unlabelled: number[] = [];
      for (let i = 0; i < poolCount; i++) if (!isLabelled[i]) unlabelled.push(i);
      // Once the target accuracy is reached, labels-to-target is known and later rounds cannot change it.
      const reachedTarget = req.untilAccuracy !== null && metrics.accuracy >= req.untilAccuracy;
      if (round < req.rounds && unlabelled.length > 0 && !reachedTarget) {
        report(round, 'acquiring', 0.85);
        let candidates = unlabelled;
        if (req.poolSubset !== null && req.poolSubset < unlabelled.length) {
          const order = permutation(unlabelled.length, deriveSeed(req.runSeed, 5000 + round));
          candidates = Array.from(order.subarray(0, req.poolSubset), (o) => unlabelled[o]).sort((a, b) => a - b);
        }
        const k = Math.min(req.step, candidates.length);
        const candX = gatherRows(req.poolX, per, candidates);
        const p = await posterior.predictiveSamples(candX, {
          consistentMasks: true,
          onProgress: (q) => report(round, 'acquiring', 0.85 + 0.1 * q.fraction),
        });
        if (p.shape[0] > 1) {
          const b = baldScores(p);
          maxEpistemic = 0;
          for (let i = 0; i < b.length; i++) maxEpistemic = Math.max(maxEpistemic, b[i]);
          current.epistemic = b;
        } else current.epistemic = null;
        const selectSeed = deriveSeed(req.runSeed, 9000 + round);
        let positions: ArrayLike<number>;
        if (req.warmStart && round < req.warmStartRounds) {
          nextSelectedBy = `warm-start:${req.warmStart}`;
          if (req.warmStart === 'random') positions = permutation(candidates.length, selectSeed).subarray(0, k);
          else {
            // Rows: the labelled images first (the centres), then the candidates.
            const rows = [...labelled, ...candidates];
            let features: Float32Array;
            let dim: number;
            if (req.kcenterSpace === 'pixels') {
              features = pixelFeatures(req.poolX, per, rows);
              dim = per;
            } else {
              const f = await posterior.features(gatherRows(req.poolX, per, rows));
              features = f.features;
              dim = f.shape[1];
            }
            const centres = Array.from(labelled.keys());
            const cand = Array.from(candidates.keys(), (i) => labelled.length + i);
            positions = Array.from(kCenterGreedy(features, dim, centres, cand, k, selectSeed), (r) => r - labelled.length);
          }
        } else {
          nextSelectedBy = req.acquisition;
          positions = selectPositions(req, p, k, selectSeed);
        }
        nextBatch = Array.from(positions, (pos) => candidates[pos]);
      }
      const acquireSeconds = nextBatch.length > 0 ? (performance.now() - acquireStarted) / 1000 : 0;

      const signal = previous ? stoppingSignal(previous, current, req.stopping) : null;
      const record: RoundRecord = {
        acquisition: req.acquisition,
        seed: req.seedIndex,
        round,
        labels: labelled.length,
        accuracy: metrics.accuracy,
        nll: metrics.nll,
        ece: metrics.ece,
        brier: metrics.brier,
        selectedBy,
        epochs,
        trainSeconds: fit.seconds,
        acquireSeconds,
        roundSeconds: (performance.now() - roundStarted) / 1000,
        agreement: signal?.agreement ?? null,
        maxEpistemic,
        stop: signal?.stop ?? false,
      };
      records.push(record);
      hooks.onProgress?.({ kind: 'round', record });
      previous = current;

      if (nextBatch.length === 0) break;
      for (const i of nextBatch) {
        if (isLabelled[i]) throw new Error(`internal: pool image ${i} selected twice`);
        isLabelled[i] = 1;
        labelled.push(i);
      }
      selectedBy = nextSelectedBy;
    } finally {
      posterior.dispose();
    }
  }
  return { records, seconds: (performance.now() - started) / 1000 };
}
