import type { Architecture } from '../bdl/architectures.ts';
import { ARCHITECTURE_HELP, parseArchitecture } from './architectureOption.ts';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { SIMULATE_DEFAULTS } from '../service/contract.ts';
import { writeSimulationOutputs } from '../simulate/report.ts';
import { SIM_METHODS, SIMULATE_ACQUISITIONS, DEFAULT_SIM_ACQUISITIONS, type RoundRecord, type SimAcquisition, type SimulateOptions, type SimulationResult } from '../simulate/types.ts';
import { parseIntOption } from './main.ts';
import { parsePrior, parsePriorPrecision, PRIOR_HELP, PRIOR_PRECISION_HELP, type PriorName } from './priorOptions.ts';
import { fixed, printResult, table } from './output.ts';
import { progressBar } from './progress.ts';

interface SimulateCliOptions {
  dataset: string;
  acquisition?: SimAcquisition[];
  method: string;
  backbone?: string;
  prior?: PriorName;
  priorPrecision?: number;
  initial: number;
  step: number;
  rounds: number;
  seeds: number;
  seed: number;
  epochs?: number;
  samples: number;
  poolSize?: number;
  poolSubset?: number;
  testSize?: number;
  testCsv?: string;
  imageSize: number;
  channels: number;
  architecture?: Architecture;
  warmStart?: string;
  warmStartRounds?: number;
  kcenterSpace: string;
  batchbaldSamples: number;
  powerBeta: number;
  untilAccuracy?: number;
  out?: string;
  json?: boolean;
}

function parseAcquisitions(value: string): SimAcquisition[] {
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const n of names) if (!(SIMULATE_ACQUISITIONS as readonly string[]).includes(n)) throw new InvalidArgumentError(`unknown acquisition '${n}' (known: ${SIMULATE_ACQUISITIONS.join(', ')})`);
  if (names.length === 0) throw new InvalidArgumentError('at least one acquisition');
  return [...new Set(names)] as SimAcquisition[];
}

function parseAccuracy(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('expected an accuracy in (0, 1], e.g. 0.95');
  return n;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

const pctOrDash = (v: number | null | undefined) => (v == null ? '-' : `${(v * 100).toFixed(1)}%`);
const labelsOrDash = (v: number | null) => (v === null ? 'not reached' : String(Math.round(v)));

function roundLine(r: RoundRecord): string {
  return `${r.acquisition.padEnd(10)} seed ${r.seed + 1} round ${String(r.round).padStart(3)}  labels ${String(r.labels).padStart(5)}  accuracy ${fixed(r.accuracy, 4)}  NLL ${fixed(r.nll, 4)}  ECE ${fixed(r.ece, 4)}${r.stop ? '  [stop signal]' : ''}`;
}

function humanSummary(result: SimulationResult, files: { rounds: string; summary: string; plot: string } | null): string {
  const { summary } = result;
  const lines = [
    '',
    `${summary.complete ? 'Simulation finished' : 'Simulation stopped early (partial results)'} in ${(summary.seconds / 60).toFixed(1)} min on the ${summary.backend ?? '?'} backend: ${summary.dataset.kind} data set, pool ${summary.dataset.pool}, held-out ${summary.dataset.test}, ${summary.options.method}`,
    table([
      ['acquisition', 'seeds', 'labels to 90% (median [q1, q3])', 'labels to 95% (median [q1, q3])', 'final accuracy (median)', 's/round'],
      ...summary.acquisitions.map((a) => [
        a.acquisition,
        a.seeds,
        `${labelsOrDash(a.labelsTo90.median)} [${labelsOrDash(a.labelsTo90.q1)}, ${labelsOrDash(a.labelsTo90.q3)}]`,
        `${labelsOrDash(a.labelsTo95.median)} [${labelsOrDash(a.labelsTo95.q1)}, ${labelsOrDash(a.labelsTo95.q3)}]`,
        pctOrDash(a.finalAccuracy.median),
        a.secondsPerRound.toFixed(1),
      ]),
    ]),
  ];
  if (files) lines.push(`wrote ${files.rounds}, ${files.summary}, ${files.plot}`);
  return lines.join('\n');
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('benchmark acquisition functions with an oracle: label, retrain from scratch, evaluate on held-out images, round after round')
    .requiredOption('--dataset <dir>', 'an MNIST idx folder (pool = images 0–7999, held out = 8000–9999) or an image folder with labels.csv (path,label)')
    .option('--acquisition <names>', `comma-separated: ${SIMULATE_ACQUISITIONS.join(', ')} (default: ${DEFAULT_SIM_ACQUISITIONS.join(',')})`, parseAcquisitions)
    .option('--method <method>', SIM_METHODS.join(' | '), SIMULATE_DEFAULTS.method)
    .option('--backbone <path>', 'lora-ensemble, lora-laplace: a TF.js LayersModel folder (model.json + weight files) or its model.json')
    .option('--prior <prior>', PRIOR_HELP, parsePrior)
    .option('--prior-precision <tau>', PRIOR_PRECISION_HELP, parsePriorPrecision)
    .option('--initial <n>', 'class-balanced random initial labelled set', parseIntOption(2, 1_000_000), SIMULATE_DEFAULTS.initial)
    .option('--step <n>', 'images acquired per round', parseIntOption(1, 100_000), SIMULATE_DEFAULTS.step)
    .option('--rounds <n>', 'acquisition rounds (round 0 is the initial set)', parseIntOption(0, 100_000), SIMULATE_DEFAULTS.rounds)
    .option('--seeds <n>', 'repetitions (different initial sets and initialisations)', parseIntOption(1, 1000), SIMULATE_DEFAULTS.seeds)
    .option('--seed <n>', 'base seed', parseIntOption(0, 2 ** 31), 0)
    .option('--epochs <n>', "epochs per retraining (default: the app's schedule, 20 epochs but ≥ ~250 gradient steps)", parseIntOption(1, 500))
    .option('--samples <n>', 'posterior samples T for scoring and evaluation', parseIntOption(1, 1000), 20)
    .option('--pool-size <n>', 'use a fixed random subset of the pool side (default all)', parseIntOption(1, 100_000_000))
    .option('--pool-subset <n>', 'score a random subset of this many unlabelled images each round (Gal et al.: 2000; default all)', parseIntOption(1, 100_000_000))
    .option('--test-size <n>', 'use a fixed random subset of the held-out set (default all)', parseIntOption(1, 100_000_000))
    .option('--test-csv <csv>', 'image folders: held-out images (path,label) instead of a seeded 80/20 split')
    .option('--image-size <n>', 'image folders: model input size 28 | 64 | 128 | 224', parseIntOption(28, 224), 28)
    .option('--channels <n>', 'image folders: 1 (grayscale) or 3 (RGB)', parseIntOption(1, 3), 1)
    .option('--architecture <name>', ARCHITECTURE_HELP, parseArchitecture)
    .option('--warm-start <kind>', 'random | kcenter: the first --warm-start-rounds rounds acquire at random or by k-centre greedy')
    .option('--warm-start-rounds <n>', `rounds of warm start (default ${SIMULATE_DEFAULTS.warmStartRounds})`, parseIntOption(0, 100_000))
    .option('--kcenter-space <space>', 'k-centre greedy on the network\'s "features" or raw "pixels"', 'features')
    .option('--batchbald-samples <n>', 'BatchBALD: sampled label configurations M when the exact joint is too large', parseIntOption(1, 10_000_000), 1000)
    .option('--power-beta <b>', 'power-BALD: β of the sampling ∝ BALD^β', parsePositive, 1)
    .option('--until-accuracy <a>', 'end each run at the first round with held-out accuracy ≥ a (labels-to-a stays exact; later rounds are skipped)', parseAccuracy)
    .option('--out <dir>', 'write rounds.csv, summary.json and learning-curve.svg here')
    .option('--json', 'print the summary and every round as JSON')
    .action(async (opts: SimulateCliOptions) => {
      if (!(SIM_METHODS as readonly string[]).includes(opts.method)) throw new Error(`--method must be one of ${SIM_METHODS.join(', ')}`);
      if (opts.warmStart !== undefined && opts.warmStart !== 'random' && opts.warmStart !== 'kcenter') throw new Error('--warm-start must be random or kcenter');
      if (opts.kcenterSpace !== 'features' && opts.kcenterSpace !== 'pixels') throw new Error('--kcenter-space must be features or pixels');
      if (opts.channels === 2) throw new Error('--channels must be 1 or 3');
      const options: SimulateOptions = {
        dataset: opts.dataset,
        testCsv: opts.testCsv,
        imageSize: opts.imageSize,
        channels: opts.channels as 1 | 3,
        ...(opts.architecture !== undefined ? { architecture: opts.architecture } : {}),
        acquisitions: opts.acquisition ?? [...DEFAULT_SIM_ACQUISITIONS],
        method: opts.method as SimulateOptions['method'],
        ...(opts.backbone !== undefined ? { backbone: opts.backbone } : {}),
        ...(opts.prior !== undefined ? { prior: opts.prior } : {}),
        ...(opts.priorPrecision !== undefined ? { priorPrecision: opts.priorPrecision } : {}),
        initial: opts.initial,
        step: opts.step,
        rounds: opts.rounds,
        seeds: opts.seeds,
        seed: opts.seed,
        epochs: opts.epochs,
        samples: opts.samples,
        poolSize: opts.poolSize,
        poolSubset: opts.poolSubset,
        testSize: opts.testSize,
        warmStart: opts.warmStart as SimulateOptions['warmStart'],
        warmStartRounds: opts.warmStartRounds,
        kcenterSpace: opts.kcenterSpace as SimulateOptions['kcenterSpace'],
        batchBaldSamples: opts.batchbaldSamples,
        powerBeta: opts.powerBeta,
        untilAccuracy: opts.untilAccuracy,
      };
      const tty = !opts.json && process.stderr.isTTY === true;
      const bar = progressBar('simulate', tty);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      const out = opts.out ? path.resolve(opts.out) : null;
      let partial: SimulationResult | null = null;
      try {
        const { simulate } = await import('../simulate/simulate.ts');
        const result = await simulate(options, {
          signal: controller.signal,
          onPartial: (p) => (partial = p),
          onProgress: (p) => {
            if (p.record && !opts.json) {
              if (tty) process.stderr.write('\r\x1b[K');
              process.stdout.write(`${roundLine(p.record)}\n`);
            }
            bar.update(p.fraction, p.message);
          },
        });
        bar.done();
        const files = out ? writeSimulationOutputs(out, result) : null;
        printResult(!!opts.json, { ...result.summary, rounds: result.rounds, files }, () => humanSummary(result, files));
      } catch (error) {
        bar.done();
        // Cancelled (Ctrl-C) or failed: keep what was measured.
        const got = partial as SimulationResult | null;
        if (got && got.rounds.length > 0 && out) {
          const files = writeSimulationOutputs(out, got);
          process.stderr.write(`episteme: partial results (${got.rounds.length} rounds) written to ${files.rounds}, ${files.summary}, ${files.plot}\n`);
        }
        throw error;
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}
