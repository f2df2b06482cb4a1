/**
 * The active-learning benchmark: for each seed and acquisition function, one run of the loop in
 * ./loop.ts in a worker thread (one run at a time: training already uses every core), then
 * per-acquisition summaries. Runs of the same seed share the initial set, the network
 * initialisations and the pool subsets, so acquisition functions are compared on paired runs.
 */
import { defaultArchitecture, validateArchitecture } from '../bdl/architectures.ts';
import path from 'node:path';
import { checkPrior } from '../bdl/posterior/registry.ts';
import { deriveSeed } from '../bdl/util/random.ts';
import { CancelledError, runWorker } from '../jobs/runWorker.ts';
import { SIMULATE_DEFAULTS } from '../service/contract.ts';
import { loadDataset, subsample } from './dataset.ts';
import type { RunProgress, RunRequest, RunResult } from './protocol.ts';
import { STOPPING_DEFAULTS } from './stopping.ts';
import { summariseAcquisition } from './summary.ts';
import {
  DEFAULT_SIM_ACQUISITIONS,
  SIM_METHODS,
  SIMULATE_ACQUISITIONS,
  type RoundRecord,
  type SimulateOptions,
  type SimulateProgress,
  type SimulationResult,
  type SimulationSummary,
} from './types.ts';

export interface SimulateControl {
  onProgress?(progress: SimulateProgress): void;
  signal?: AbortSignal;
  /** Called with the partial result when the simulation is cancelled or a run fails, before the error is rethrown. */
  onPartial?(partial: SimulationResult): void;
}

const positiveInt = (name: string, v: number | undefined, min = 1) => {
  if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new Error(`${name} must be a whole number ≥ ${min}, got ${v}`);
};

/** Options with defaults filled in, validated. */
export function resolveOptions(options: SimulateOptions): SimulationSummary['options'] {
  const acquisitions = [...(options.acquisitions ?? DEFAULT_SIM_ACQUISITIONS)];
  if (acquisitions.length === 0) throw new Error('at least one acquisition function is needed');
  for (const a of acquisitions) {
    if (!(SIMULATE_ACQUISITIONS as readonly string[]).includes(a)) throw new Error(`unknown acquisition '${a}' (known: ${SIMULATE_ACQUISITIONS.join(', ')})`);
  }
  if (new Set(acquisitions).size !== acquisitions.length) throw new Error('an acquisition function is listed twice');
  const method = options.method ?? SIMULATE_DEFAULTS.method;
  if (!(SIM_METHODS as readonly string[]).includes(method)) throw new Error(`unknown method '${method}' (known: ${SIM_METHODS.join(', ')})`);
  positiveInt('initial', options.initial, 2);
  positiveInt('step', options.step);
  positiveInt('rounds', options.rounds, 0);
  positiveInt('seeds', options.seeds);
  positiveInt('seed', options.seed, 0);
  positiveInt('epochs', options.epochs);
  positiveInt('batchSize', options.batchSize);
  positiveInt('samples', options.samples);
  positiveInt('poolSize', options.poolSize);
  positiveInt('poolSubset', options.poolSubset);
  positiveInt('testSize', options.testSize);
  positiveInt('warmStartRounds', options.warmStartRounds, 0);
  positiveInt('batchBaldSamples', options.batchBaldSamples);
  if (options.powerBeta !== undefined && !(options.powerBeta > 0)) throw new Error(`powerBeta must be > 0, got ${options.powerBeta}`);
  if (options.untilAccuracy !== undefined && !(options.untilAccuracy > 0 && options.untilAccuracy <= 1)) throw new Error(`untilAccuracy must be in (0, 1], got ${options.untilAccuracy}`);
  if (options.warmStart !== undefined && options.warmStart !== 'random' && options.warmStart !== 'kcenter') throw new Error(`warmStart must be random or kcenter`);
  if (options.kcenterSpace !== undefined && options.kcenterSpace !== 'features' && options.kcenterSpace !== 'pixels') throw new Error(`kcenterSpace must be features or pixels`);
  checkPrior(method, options.prior);
  if (options.priorPrecision !== undefined && !(Number.isFinite(options.priorPrecision) && options.priorPrecision > 0)) throw new Error(`priorPrecision must be a number > 0, got ${options.priorPrecision}`);
  const lora = method === 'lora-ensemble' || method === 'lora-laplace';
  if (lora && options.backbone === undefined) throw new Error(`method '${method}' needs a backbone (a TF.js LayersModel folder)`);
  if (!lora && options.backbone !== undefined) throw new Error(`a backbone is only used by the methods lora-ensemble and lora-laplace, not ${method}`);
  if (lora && options.architecture !== undefined) throw new Error(`an architecture is not used by method '${method}': its network is the backbone`);
  const imageSize = options.imageSize ?? 28;
  const architecture = lora ? null : validateArchitecture(options.architecture ?? defaultArchitecture(imageSize), imageSize, options.channels ?? 1);
  return {
    dataset: options.dataset,
    testCsv: options.testCsv ?? null,
    imageSize,
    channels: options.channels ?? 1,
    architecture,
    acquisitions,
    method,
    initial: options.initial ?? SIMULATE_DEFAULTS.initial,
    step: options.step ?? SIMULATE_DEFAULTS.step,
    rounds: options.rounds ?? SIMULATE_DEFAULTS.rounds,
    seeds: options.seeds ?? SIMULATE_DEFAULTS.seeds,
    seed: options.seed ?? 0,
    epochs: options.epochs ?? 'auto',
    batchSize: options.batchSize ?? 64,
    samples: options.samples ?? 20,
    poolSize: options.poolSize ?? 0,
    poolSubset: options.poolSubset ?? null,
    testSize: options.testSize ?? 0,
    warmStart: options.warmStart ?? null,
    warmStartRounds: options.warmStart ? (options.warmStartRounds ?? SIMULATE_DEFAULTS.warmStartRounds) : 0,
    kcenterSpace: options.kcenterSpace ?? 'features',
    batchBaldSamples: options.batchBaldSamples ?? 1000,
    powerBeta: options.powerBeta ?? 1,
    stopping: { ...STOPPING_DEFAULTS, ...options.stopping },
    untilAccuracy: options.untilAccuracy ?? null,
    backbone: options.backbone === undefined ? null : path.resolve(options.backbone),
    prior: options.prior ?? 'gaussian',
    priorPrecision: options.priorPrecision ?? null,
  };
}

/** Runs the benchmark. Throws the runWorker CancelledError when `signal` aborts. */
export async function simulate(options: SimulateOptions, control: SimulateControl = {}): Promise<SimulationResult> {
  const started = performance.now();
  const opts = resolveOptions(options);
  const data = await loadDataset(opts.dataset, { imageSize: opts.imageSize, channels: opts.channels, testCsv: opts.testCsv ?? undefined });
  if (control.signal?.aborted) throw new CancelledError('simulation');
  const per = data.imageSize * data.imageSize * data.channels;
  const pool = subsample(data.poolX, data.poolY, per, opts.poolSize || undefined, deriveSeed(opts.seed, 0x9001));
  const test = subsample(data.testX, data.testY, per, opts.testSize || undefined, deriveSeed(opts.seed, 0x7e57));
  if (opts.initial > pool.y.length) throw new Error(`the initial set (${opts.initial}) is larger than the pool (${pool.y.length})`);
  const resolved = { ...opts, imageSize: data.imageSize, channels: data.channels, poolSize: pool.y.length, testSize: test.y.length };

  const records: RoundRecord[] = [];
  let backend: string | null = null;
  const runs = opts.seeds * opts.acquisitions.length;
  // Rounds a run can have (fewer when the pool runs out first).
  const roundsPerRun = Math.min(opts.rounds, Math.ceil((pool.y.length - opts.initial) / opts.step)) + 1;
  const result = (complete: boolean): SimulationResult => ({
    summary: {
      dataset: {
        path: data.path,
        kind: data.kind,
        classes: data.classes,
        imageSize: data.imageSize,
        channels: data.channels,
        pool: pool.y.length,
        test: test.y.length,
        failed: data.failed.length,
      },
      options: resolved,
      backend,
      acquisitions: opts.acquisitions.filter((a) => records.some((r) => r.acquisition === a)).map((a) => summariseAcquisition(a, records)),
      seconds: (performance.now() - started) / 1000,
      complete,
    },
    rounds: [...records],
  });

  let runIndex = 0;
  try {
    for (let seedIndex = 0; seedIndex < opts.seeds; seedIndex++) {
      for (const acquisition of opts.acquisitions) {
        const request: RunRequest = {
          acquisition,
          seedIndex,
          runSeed: deriveSeed(opts.seed, seedIndex),
          method: opts.method,
          ...(opts.backbone ? { backbone: opts.backbone } : {}),
          prior: opts.prior,
          ...(opts.priorPrecision !== null ? { priorPrecision: opts.priorPrecision } : {}),
          ...(opts.architecture ? { architecture: opts.architecture } : {}),
          imageSize: data.imageSize,
          channels: data.channels,
          numClasses: data.classes.length,
          poolX: pool.x.slice(),
          poolY: pool.y.slice(),
          testX: test.x.slice(),
          testY: test.y.slice(),
          initial: opts.initial,
          step: opts.step,
          rounds: opts.rounds,
          epochs: opts.epochs === 'auto' ? null : opts.epochs,
          batchSize: opts.batchSize,
          learningRate: 1e-3,
          weightDecay: 1e-4,
          samples: opts.samples,
          poolSubset: opts.poolSubset,
          warmStart: opts.warmStart,
          warmStartRounds: opts.warmStartRounds,
          kcenterSpace: opts.kcenterSpace,
          batchBaldSamples: opts.batchBaldSamples,
          powerBeta: opts.powerBeta,
          stopping: opts.stopping,
          untilAccuracy: opts.untilAccuracy,
        };
        const done = runIndex;
        const progress = (round: number, within: number, message: string, record?: RoundRecord) =>
          control.onProgress?.({
            fraction: Math.min(1, (done * roundsPerRun + Math.min(round + within, roundsPerRun)) / (runs * roundsPerRun)),
            acquisition,
            seed: seedIndex,
            round,
            rounds: opts.rounds,
            message,
            record,
          });
        const label = `${acquisition}, seed ${seedIndex + 1}/${opts.seeds}`;
        progress(0, 0, `${label}: starting`);
        const out = await runWorker<RunRequest, RunProgress, RunResult>(new URL('./simulateWorker.ts', import.meta.url), request, {
          signal: control.signal,
          transfer: [request.poolX.buffer, request.poolY.buffer, request.testX.buffer, request.testY.buffer] as ArrayBuffer[],
          onProgress: (p) => {
            if (p.kind === 'round') {
              records.push(p.record);
              const r = p.record;
              progress(r.round, 1, `${label}: round ${r.round}/${opts.rounds}, ${r.labels} labels, accuracy ${(r.accuracy * 100).toFixed(1)}%`, r);
            } else progress(p.round, p.fraction, `${label}: round ${p.round}/${opts.rounds}, ${p.phase}`);
          },
        });
        backend = out.backend;
        runIndex++;
      }
    }
  } catch (error) {
    control.onPartial?.(result(false));
    throw error;
  }
  return result(true);
}
