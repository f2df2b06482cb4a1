import type { SimulationResult } from '../simulate/types.ts';
import type { JobStateT } from './contract.ts';

type SimulateJobResult = Extract<NonNullable<JobStateT['result']>, { kind: 'simulate' }>;

/** What the app's simulate job reports: the summary's table and curves, finished or partial. */
export function simulateJobResult(result: SimulationResult, out: string | null): SimulateJobResult {
  const { summary } = result;
  return {
    kind: 'simulate',
    out,
    complete: summary.complete,
    seconds: summary.seconds,
    rounds: result.rounds.length,
    acquisitions: summary.acquisitions.map((a) => ({
      acquisition: a.acquisition,
      seeds: a.seeds,
      labelsTo90: { median: a.labelsTo90.median, q1: a.labelsTo90.q1, q3: a.labelsTo90.q3 },
      labelsTo95: { median: a.labelsTo95.median, q1: a.labelsTo95.q1, q3: a.labelsTo95.q3 },
      finalAccuracy: a.finalAccuracy,
      curve: a.curve.map((c) => ({ labels: c.labels, median: c.median, q1: c.q1, q3: c.q3 })),
    })),
  };
}
