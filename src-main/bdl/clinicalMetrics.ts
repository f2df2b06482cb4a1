/**
 * The metrics a clinician reads, each with a percentile-bootstrap 95% interval over images.
 * TF.js-free: runs on the predictive mean p̄ [N, C] and the labels [N].
 *
 * Operating point: the argmax of p̄ (ties → lowest class), or for two classes
 * p̄_positive ≥ threshold → positive. Accuracy, balanced accuracy, sensitivity, specificity, PPV,
 * NPV, the confusion matrix, QWK and the grade error use it; AUROC, NLL, ECE and Brier do not
 * (ECE is of the top-class confidence, bdl/metrics.ts).
 *
 * - auroc: Mann–Whitney, P(score of a positive > score of a negative), ties counted ½; two classes:
 *   of the positive class; more: per class one-vs-rest (score p̄_k) and their macro mean;
 * - sensitivity TP/(TP+FN), specificity TN/(TN+FP), ppv TP/(TP+FP), npv TN/(TN+FN): two classes at
 *   the operating point for the positive class; more: per class one-vs-rest and the macro mean;
 * - balancedAccuracy: mean recall over the classes present in the labels;
 * - ordinal: quadratic weighted kappa (Cohen 1968) and mean |predicted grade − true grade|, both with
 *   the operating point's class as the predicted grade (QWK needs a discrete grade; the same grade
 *   for both keeps them comparable).
 *
 * A metric undefined on the data (a class absent, never predicted…) is NaN with a reason. A macro
 * mean is over the classes where its per-class metric is defined on the data; a bootstrap resample
 * in which a metric (or one of its macro's classes) is undefined is skipped and counted.
 */
import { calibration, perImageTerms } from './metrics.ts';
import { DEFAULT_SEED, mulberry32 } from './util/random.ts';

export interface Estimate {
  value: number;
  /** 2.5th and 97.5th percentiles of the bootstrap distribution; NaN without bootstrap. */
  low: number;
  high: number;
  /** Resamples in which the metric was undefined, left out of the interval. */
  skippedResamples: number;
  /** Why value is NaN, or which classes a macro mean leaves out. */
  reason?: string;
}

export interface ClassMetrics {
  auroc: Estimate;
  sensitivity: Estimate;
  specificity: Estimate;
  ppv: Estimate;
  npv: Estimate;
}

export interface ClassificationReport {
  n: number;
  numClasses: number;
  operatingPoint: { rule: 'argmax' } | { rule: 'threshold'; threshold: number; positiveClass: number };
  /** Two classes: the class sensitivity, PPV and AUROC are of; null with more classes (macro means). */
  positiveClass: number | null;
  bootstrap: { resamples: number; seed: number; level: 0.95 };
  accuracy: Estimate;
  balancedAccuracy: Estimate;
  auroc: Estimate;
  sensitivity: Estimate;
  specificity: Estimate;
  ppv: Estimate;
  npv: Estimate;
  nll: Estimate;
  ece: Estimate;
  brier: Estimate;
  /** One-vs-rest, per class. */
  perClass: ClassMetrics[];
  /** counts[true][predicted] at the operating point. */
  confusion: number[][];
  prevalence: { counts: number[]; shares: number[] };
  ordinal?: { qwk: Estimate; meanAbsoluteError: Estimate; predictedGrade: 'operating-point class' };
}

export interface ClassificationReportOptions {
  /** Two classes only: p̄_positiveClass ≥ threshold → positive; default argmax. */
  threshold?: number;
  /** Two classes only; default 1. */
  positiveClass?: number;
  ordinal?: boolean;
  /** Bootstrap resamples, default 1000; 0 = point estimates only. */
  bootstrap?: number;
  seed?: number;
}

export const DEFAULT_BOOTSTRAP = 1000;
const MAX_BOOTSTRAP = 100_000;
const PER_CLASS = ['auroc', 'sensitivity', 'specificity', 'ppv', 'npv'] as const;
type PerClassName = (typeof PER_CLASS)[number];
const SCALARS = ['accuracy', 'balancedAccuracy', 'auroc', 'sensitivity', 'specificity', 'ppv', 'npv', 'nll', 'ece', 'brier', 'qwk', 'meanAbsoluteError'] as const;
type ScalarName = (typeof SCALARS)[number];

/** Every metric of one (re)sample: image n counts weight[n] times. */
interface SampleMetrics {
  scalars: Record<ScalarName, number>;
  perClass: Record<PerClassName, Float64Array>;
}

const fail = (message: string): never => {
  throw new Error(`classificationReport: ${message}`);
};

function validate(probs: Float32Array, labels: Int32Array, opts: ClassificationReportOptions): { C: number; bootstrap: number; seed: number } {
  const N = labels.length;
  if (N === 0) fail('no images (labels is empty)');
  if (probs.length === 0 || probs.length % N !== 0) fail(`probs has ${probs.length} values, not N·C for N = ${N} labels`);
  const C = probs.length / N;
  if (C < 2) fail(`probs has ${C} class per image; at least two are needed`);
  for (let n = 0; n < N; n++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const p = probs[n * C + c];
      if (!(p >= 0 && p <= 1 + 1e-6)) fail(`probability ${p} of image ${n}, class ${c} is not in [0, 1]`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) fail(`the probabilities of image ${n} sum to ${sum}, not 1`);
    if (!Number.isInteger(labels[n]) || labels[n] < 0 || labels[n] >= C) fail(`label ${labels[n]} of image ${n} is not a class in [0, ${C})`);
  }
  if (opts.threshold !== undefined) {
    if (C !== 2) fail(`a threshold is for two classes; these predictions have ${C}`);
    if (!(opts.threshold > 0 && opts.threshold < 1)) fail(`threshold ${opts.threshold} is not in (0, 1)`);
  }
  if (opts.positiveClass !== undefined) {
    if (C !== 2) fail(`a positive class is for two classes; these predictions have ${C}`);
    if (opts.positiveClass !== 0 && opts.positiveClass !== 1) fail(`positiveClass ${opts.positiveClass} is not 0 or 1`);
  }
  const bootstrap = opts.bootstrap ?? DEFAULT_BOOTSTRAP;
  if (!Number.isInteger(bootstrap) || bootstrap < 0 || bootstrap > MAX_BOOTSTRAP) fail(`bootstrap ${bootstrap} is not an integer in [0, ${MAX_BOOTSTRAP}]`);
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) fail(`seed ${seed} is not an integer`);
  return { C, bootstrap, seed };
}

/** Mann–Whitney AUROC of class k from images sorted by their score: one pass over tie groups. */
function auroc(score: Float64Array, order: Uint32Array, labels: Int32Array, k: number, weight: Uint32Array | null): number {
  let negativesBelow = 0;
  let positives = 0;
  let u = 0;
  for (let i = 0; i < order.length; ) {
    const s = score[order[i]];
    let groupPositives = 0;
    let groupNegatives = 0;
    for (; i < order.length && score[order[i]] === s; i++) {
      const n = order[i];
      const w = weight ? weight[n] : 1;
      if (labels[n] === k) groupPositives += w;
      else groupNegatives += w;
    }
    u += groupPositives * (negativesBelow + 0.5 * groupNegatives);
    negativesBelow += groupNegatives;
    positives += groupPositives;
  }
  return positives > 0 && negativesBelow > 0 ? u / (positives * negativesBelow) : NaN;
}

/** Cohen's κ with quadratic weights (i − j)²/(C − 1)²: 1 − Σ w·O / Σ w·E, E the product of the marginals. */
function quadraticKappa(confusion: Float64Array, C: number, total: number): number {
  const rows = new Float64Array(C);
  const cols = new Float64Array(C);
  for (let i = 0; i < C; i++)
    for (let j = 0; j < C; j++) {
      rows[i] += confusion[i * C + j];
      cols[j] += confusion[i * C + j];
    }
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < C; i++)
    for (let j = 0; j < C; j++) {
      const w = ((i - j) * (i - j)) / ((C - 1) * (C - 1));
      observed += w * confusion[i * C + j];
      expected += (w * rows[i] * cols[j]) / total;
    }
  return expected > 0 ? 1 - observed / expected : NaN;
}

const meanOver = (values: Float64Array, classes: number[]): number => {
  let sum = 0;
  for (const k of classes) sum += values[k];
  return classes.length > 0 ? sum / classes.length : NaN;
};

/** Percentile (linear between order statistics) of ascending values. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

export function classificationReport(probs: Float32Array, labels: Int32Array, opts: ClassificationReportOptions = {}): ClassificationReport {
  const { C, bootstrap, seed } = validate(probs, labels, opts);
  const N = labels.length;
  const terms = perImageTerms(probs, labels, C, 'classificationReport');
  const positiveClass = C === 2 ? (opts.positiveClass ?? 1) : null;
  const predicted = Int32Array.from(terms.predicted);
  if (opts.threshold !== undefined) for (let n = 0; n < N; n++) predicted[n] = probs[n * C + positiveClass!] >= opts.threshold ? positiveClass! : 1 - positiveClass!;
  const scores = Array.from({ length: C }, (_, k) => Float64Array.from({ length: N }, (_, n) => probs[n * C + k]));
  const orders = scores.map((score) => Uint32Array.from({ length: N }, (_, n) => n).sort((a, b) => score[a] - score[b]));

  const measure = (weight: Uint32Array | null): SampleMetrics & { confusion: Float64Array } => {
    const confusion = new Float64Array(C * C);
    let total = 0;
    let hits = 0;
    let nll = 0;
    let brier = 0;
    let gradeError = 0;
    for (let n = 0; n < N; n++) {
      const w = weight ? weight[n] : 1;
      confusion[labels[n] * C + predicted[n]] += w;
      total += w;
      hits += predicted[n] === labels[n] ? w : 0;
      nll += w * terms.nll[n];
      brier += w * terms.brier[n];
      gradeError += w * Math.abs(predicted[n] - labels[n]);
    }
    const perClass = Object.fromEntries(PER_CLASS.map((name) => [name, new Float64Array(C)])) as Record<PerClassName, Float64Array>;
    for (let k = 0; k < C; k++) {
      let actual = 0;
      let predictedK = 0;
      for (let j = 0; j < C; j++) {
        actual += confusion[k * C + j];
        predictedK += confusion[j * C + k];
      }
      const tp = confusion[k * C + k];
      const fn = actual - tp;
      const fp = predictedK - tp;
      const tn = total - tp - fn - fp;
      perClass.sensitivity[k] = actual > 0 ? tp / actual : NaN;
      perClass.specificity[k] = tn + fp > 0 ? tn / (tn + fp) : NaN;
      perClass.ppv[k] = predictedK > 0 ? tp / predictedK : NaN;
      perClass.npv[k] = tn + fn > 0 ? tn / (tn + fn) : NaN;
      perClass.auroc[k] = auroc(scores[k], orders[k], labels, k, weight);
    }
    const scalars = {
      accuracy: hits / total,
      nll: nll / total,
      brier: brier / total,
      ece: calibration(terms.confidence, terms.hit, weight).ece,
      qwk: quadraticKappa(confusion, C, total),
      meanAbsoluteError: gradeError / total,
    } as Record<ScalarName, number>;
    return { scalars, perClass, confusion };
  };

  const full = measure(null);
  // The classes each macro mean is over, fixed by the data so that every resample averages the same ones.
  const macroClasses = Object.fromEntries(PER_CLASS.map((name) => [name, [...full.perClass[name].keys()].filter((k) => !Number.isNaN(full.perClass[name][k]))])) as Record<PerClassName, number[]>;
  const present = [...Array(C).keys()].filter((k) => full.confusion.subarray(k * C, (k + 1) * C).some((v) => v > 0));
  const summarise = (sample: SampleMetrics): void => {
    const { scalars, perClass } = sample;
    const macro = (name: PerClassName): number => (macroClasses[name].some((k) => Number.isNaN(perClass[name][k])) ? NaN : meanOver(perClass[name], macroClasses[name]));
    scalars.balancedAccuracy = present.some((k) => Number.isNaN(perClass.sensitivity[k])) ? NaN : meanOver(perClass.sensitivity, present);
    for (const name of PER_CLASS) scalars[name] = positiveClass === null ? macro(name) : perClass[name][positiveClass];
  };
  summarise(full);

  const draws = { scalars: Object.fromEntries(SCALARS.map((name) => [name, [] as number[]])) as Record<ScalarName, number[]>, perClass: PER_CLASS.map(() => Array.from({ length: C }, () => [] as number[])) };
  const rand = mulberry32(seed);
  const weight = new Uint32Array(N);
  for (let b = 0; b < bootstrap; b++) {
    weight.fill(0);
    for (let i = 0; i < N; i++) weight[Math.floor(rand() * N)]++;
    const sample = measure(weight);
    summarise(sample);
    for (const name of SCALARS) draws.scalars[name].push(sample.scalars[name]);
    PER_CLASS.forEach((name, m) => sample.perClass[name].forEach((v, k) => draws.perClass[m][k].push(v)));
  }
  const estimate = (value: number, resampled: number[], reason?: string): Estimate => {
    const defined = Float64Array.from(resampled.filter((v) => !Number.isNaN(v))).sort();
    const out: Estimate = { value, low: percentile(defined, 0.025), high: percentile(defined, 0.975), skippedResamples: resampled.length - defined.length };
    if (reason) out.reason = reason;
    return out;
  };

  const absent = [...Array(C).keys()].filter((k) => !present.includes(k));
  const perClassReason = (name: PerClassName, k: number): string | undefined => {
    if (!Number.isNaN(full.perClass[name][k])) return undefined;
    if (name === 'auroc') return absent.includes(k) ? `class ${k} is absent from the labels` : `every image is of class ${k}`;
    if (name === 'sensitivity') return `class ${k} is absent from the labels`;
    if (name === 'specificity') return `every image is of class ${k}`;
    return name === 'ppv' ? `class ${k} is never predicted` : `every image is predicted class ${k}`;
  };
  const headlineReason = (name: PerClassName): string | undefined => {
    if (positiveClass !== null) return perClassReason(name, positiveClass);
    const left = [...Array(C).keys()].filter((k) => !macroClasses[name].includes(k));
    if (left.length === 0) return undefined;
    return `macro mean over ${macroClasses[name].length} of ${C} classes, undefined for ${left.map((k) => perClassReason(name, k)).join('; ')}`;
  };
  /** `note` is kept beside a defined value; an undefined one gets `whyUndefined`. */
  const scalar = (name: ScalarName, note?: string, whyUndefined = note ?? 'undefined on these data') => estimate(full.scalars[name], draws.scalars[name], Number.isNaN(full.scalars[name]) ? whyUndefined : note);
  const headline = Object.fromEntries(PER_CLASS.map((name) => [name, scalar(name, headlineReason(name))])) as Record<PerClassName, Estimate>;

  const counts = [...Array(C).keys()].map((k) => full.confusion.subarray(k * C, (k + 1) * C).reduce((a, v) => a + v, 0));
  const report: ClassificationReport = {
    n: N,
    numClasses: C,
    operatingPoint: opts.threshold === undefined ? { rule: 'argmax' } : { rule: 'threshold', threshold: opts.threshold, positiveClass: positiveClass! },
    positiveClass,
    bootstrap: { resamples: bootstrap, seed, level: 0.95 },
    accuracy: scalar('accuracy'),
    balancedAccuracy: scalar('balancedAccuracy', absent.length > 0 ? `mean recall over the ${present.length} classes present in the labels` : undefined),
    ...headline,
    nll: scalar('nll'),
    ece: scalar('ece'),
    brier: scalar('brier'),
    perClass: [...Array(C).keys()].map((k) => Object.fromEntries(PER_CLASS.map((name, m) => [name, estimate(full.perClass[name][k], draws.perClass[m][k], perClassReason(name, k))])) as unknown as ClassMetrics),
    confusion: [...Array(C).keys()].map((k) => Array.from(full.confusion.subarray(k * C, (k + 1) * C))),
    prevalence: { counts, shares: counts.map((c) => c / N) },
  };
  if (opts.ordinal) report.ordinal = { qwk: scalar('qwk', undefined, 'labels and predictions are all one grade'), meanAbsoluteError: scalar('meanAbsoluteError'), predictedGrade: 'operating-point class' };
  return report;
}

type HeadlineName = 'accuracy' | 'balancedAccuracy' | PerClassName | 'nll' | 'ece' | 'brier';
/** The fields of a report `clinicalMetricRows` reads: the report itself, or the contract's JSON form (null for NaN). */
type ReportLike<E> = Record<HeadlineName, E> & { positiveClass: number | null; ordinal?: { qwk: E; meanAbsoluteError: E } };

/** The headline metrics as labelled rows, in the order the CLI and the app show them. */
export function clinicalMetricRows<E>(report: ReportLike<E>, classes: string[]): [string, E][] {
  const positive = report.positiveClass === null ? null : classes[report.positiveClass];
  return [
    ['accuracy', report.accuracy],
    ['balanced accuracy', report.balancedAccuracy],
    [positive ? `AUROC (${positive})` : 'AUROC (macro, one-vs-rest)', report.auroc],
    [positive ? `sensitivity (${positive})` : 'sensitivity (macro)', report.sensitivity],
    [positive ? 'specificity' : 'specificity (macro)', report.specificity],
    [positive ? 'PPV' : 'PPV (macro)', report.ppv],
    [positive ? 'NPV' : 'NPV (macro)', report.npv],
    ['NLL', report.nll],
    ['ECE (15 bins)', report.ece],
    ['Brier', report.brier],
    ...(report.ordinal ? ([['quadratic weighted κ', report.ordinal.qwk], ['mean abs. grade error', report.ordinal.meanAbsoluteError]] as [string, E][]) : []),
  ];
}
