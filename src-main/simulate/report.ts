/** The simulator's files: rounds.csv (one row per round and seed), summary.json, learning-curve.svg. */
import fs from 'node:fs';
import path from 'node:path';
import { formatCsv } from '../util/csv.ts';
import { learningCurveSvg } from './svg.ts';
import type { RoundRecord, SimulationResult } from './types.ts';

export const ROUND_COLUMNS = [
  'acquisition',
  'seed',
  'round',
  'labels',
  'accuracy',
  'nll',
  'ece',
  'brier',
  'selected_by',
  'epochs',
  'train_seconds',
  'acquire_seconds',
  'round_seconds',
  'agreement',
  'max_epistemic',
  'stop',
] as const;

const r6 = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 1e6) / 1e6);

export function roundsCsv(records: readonly RoundRecord[]): string {
  return formatCsv([
    [...ROUND_COLUMNS],
    ...records.map((r) => [
      r.acquisition,
      r.seed,
      r.round,
      r.labels,
      r6(r.accuracy),
      r6(r.nll),
      r6(r.ece),
      r6(r.brier),
      r.selectedBy,
      r.epochs,
      r6(r.trainSeconds),
      r6(r.acquireSeconds),
      r6(r.roundSeconds),
      r6(r.agreement),
      r6(r.maxEpistemic),
      r.stop ? 1 : 0,
    ]),
  ]);
}

/** The folder's name for `<dir>/labels.csv`, else the file or folder name. */
const datasetName = (p: string) => (path.basename(p).toLowerCase() === 'labels.csv' ? path.basename(path.dirname(p)) : path.basename(p));

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Writes the three files into `dir` (created if needed); returns their paths. */
export function writeSimulationOutputs(dir: string, result: SimulationResult): { rounds: string; summary: string; plot: string } {
  fs.mkdirSync(dir, { recursive: true });
  const files = { rounds: path.join(dir, 'rounds.csv'), summary: path.join(dir, 'summary.json'), plot: path.join(dir, 'learning-curve.svg') };
  const { summary } = result;
  const seeds = Math.max(0, ...summary.acquisitions.map((a) => a.seeds));
  writeAtomic(files.rounds, roundsCsv(result.rounds));
  writeAtomic(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  writeAtomic(
    files.plot,
    learningCurveSvg(summary.acquisitions, {
      title: `${summary.options.method} on ${datasetName(summary.dataset.path)}: held-out accuracy (median, IQR over ${seeds} seed${seeds === 1 ? '' : 's'})`,
    }),
  );
  return files;
}
