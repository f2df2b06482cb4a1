import { clinicalMetricRows, type Estimate } from '../bdl/clinicalMetrics.ts';
import type { EvaluationReport } from '../jobs/evaluation.ts';
import { table } from './output.ts';

const number = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(3));
const interval = (e: Estimate) => (Number.isNaN(e.low) ? '-' : `${number(e.low)} – ${number(e.high)}`);
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;

/** The human `evaluate` output of a classification project: metrics with intervals, per class, confusion matrix, prevalence. */
export function formatEvaluation(report: EvaluationReport): string {
  const r = report.clinical;
  const name = (k: number) => r.classes[k];
  const rows = clinicalMetricRows(r, r.classes);
  const op = r.operatingPoint;
  const notes = [
    ...rows.filter(([, e]) => e.reason).map(([label, e]) => `${label}: ${e.reason}`),
    ...rows.filter(([, e]) => e.skippedResamples > 0).map(([label, e]) => `${label}: ${e.skippedResamples} of ${r.bootstrap.resamples} resamples skipped (undefined there)`),
  ];
  const lines = [
    `model version ${report.modelVersionId} (${report.method}) on ${report.evaluated} images (${report.excludedAsLabelled} skipped as labelled in the project, ${report.failed.length} failed)`,
    `operating point: ${op.rule === 'argmax' ? 'the most probable class' : `${name(op.positiveClass)} when P(${name(op.positiveClass)}) ≥ ${op.threshold}`}; ` +
      (r.bootstrap.resamples > 0 ? `95% intervals: percentile bootstrap over images, ${r.bootstrap.resamples} resamples, seed ${r.bootstrap.seed}` : 'no intervals (--bootstrap 0)'),
    '',
    table([['metric', 'value', '95% interval'], ...rows.map(([label, e]) => [label, number(e.value), interval(e)]), ...(report.metrics.top5 === undefined ? [] : [['top-5', number(report.metrics.top5), '-']])]),
  ];
  if (r.numClasses > 2) {
    const cell = (e: Estimate) => (Number.isNaN(e.low) ? number(e.value) : `${number(e.value)} (${number(e.low)}–${number(e.high)})`);
    lines.push('', 'per class, one-vs-rest:', table([['class', 'AUROC', 'sensitivity', 'specificity', 'PPV', 'NPV'], ...r.perClass.map((m, k) => [name(k), cell(m.auroc), cell(m.sensitivity), cell(m.specificity), cell(m.ppv), cell(m.npv)])]));
  }
  lines.push(
    '',
    'confusion matrix (rows: true class, columns: predicted):',
    table([['', ...r.classes], ...r.confusion.map((row, k) => [name(k), ...row])]),
    '',
    `prevalence: ${r.prevalence.counts.map((count, k) => `${name(k)} ${count} (${percent(r.prevalence.shares[k])})`).join(', ')}`,
    ...notes.map((note) => `  note: ${note}`),
    ...report.failed.map((f) => `  failed: ${f.path}: [${f.code}] ${f.message}`),
  );
  return lines.join('\n');
}
