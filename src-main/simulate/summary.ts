/** Per-acquisition summaries of the simulator's round records: quartiles over seeds. */
import type { AcquisitionSummary, Quartiles, RoundRecord, SimAcquisition } from './types.ts';

/**
 * q-quantile of values with linear interpolation between order statistics (numpy's default);
 * +∞ allowed (an unreached target): the result is null when it would involve an ∞.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  const frac = pos - lo;
  if (!Number.isFinite(sorted[lo]) || (frac > 0 && !Number.isFinite(sorted[hi]))) return null;
  return frac === 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

export function quartiles(values: readonly number[]): Quartiles {
  return { median: quantile(values, 0.5), q1: quantile(values, 0.25), q3: quantile(values, 0.75) };
}

/** Labels of the first round whose accuracy reaches `target`, or null. Records of one run, by round. */
export function labelsToReach(records: readonly RoundRecord[], target: number): number | null {
  for (const r of records) if (r.accuracy >= target) return r.labels;
  return null;
}

function bySeed(records: readonly RoundRecord[]): Map<number, RoundRecord[]> {
  const runs = new Map<number, RoundRecord[]>();
  for (const r of records) {
    if (!runs.has(r.seed)) runs.set(r.seed, []);
    runs.get(r.seed)!.push(r);
  }
  for (const run of runs.values()) run.sort((a, b) => a.round - b.round);
  return new Map([...runs].sort((a, b) => a[0] - b[0]));
}

function target(runs: RoundRecord[][], t: number): Quartiles & { perSeed: (number | null)[] } {
  const perSeed = runs.map((run) => labelsToReach(run, t));
  return { ...quartiles(perSeed.map((v) => v ?? Infinity)), perSeed };
}

export function summariseAcquisition(acquisition: SimAcquisition, records: readonly RoundRecord[]): AcquisitionSummary {
  const runs = [...bySeed(records.filter((r) => r.acquisition === acquisition)).values()];
  const maxRound = Math.max(-1, ...runs.flatMap((run) => run.map((r) => r.round)));
  const curve: AcquisitionSummary['curve'] = [];
  for (let round = 0; round <= maxRound; round++) {
    const at = runs.map((run) => run.find((r) => r.round === round)).filter((r): r is RoundRecord => r !== undefined);
    if (at.length === 0) continue;
    const acc = at.map((r) => r.accuracy);
    const q = quartiles(acc);
    curve.push({ round, labels: quantile(at.map((r) => r.labels), 0.5)!, median: q.median!, q1: q.q1!, q3: q.q3!, seeds: at.length });
  }
  const all = runs.flat();
  const seconds = all.reduce((s, r) => s + r.roundSeconds, 0);
  return {
    acquisition,
    seeds: runs.length,
    labelsTo90: target(runs, 0.9),
    labelsTo95: target(runs, 0.95),
    finalAccuracy: quartiles(runs.map((run) => run[run.length - 1].accuracy)),
    curve,
    firstStopLabels: runs.map((run) => run.find((r) => r.stop)?.labels ?? null),
    secondsPerRound: all.length > 0 ? seconds / all.length : 0,
  };
}
