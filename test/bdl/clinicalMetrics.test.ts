import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationReport } from '../../src-main/bdl/clinicalMetrics.ts';
import { evaluate } from '../../src-main/bdl/metrics.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';
import { approx } from './helpers.ts';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(approx(a, b, tol), `${a} ≉ ${b}`);

/** Two-class predictive means [1 − s, s] from scores s = P(class 1). */
const binary = (scores: number[]) => Float32Array.from(scores.flatMap((s) => [1 - s, s]));

test('binary AUROC by Mann–Whitney with ties counted half', () => {
  // positives (class 1) score 0.9, 0.6, 0.4; negatives 0.6, 0.3. Pairs (pos, neg):
  // (0.9,0.6) 1, (0.9,0.3) 1, (0.6,0.6) ½, (0.6,0.3) 1, (0.4,0.6) 0, (0.4,0.3) 1 → 4.5 / 6 = 0.75
  const r = classificationReport(binary([0.9, 0.6, 0.4, 0.6, 0.3]), Int32Array.from([1, 1, 1, 0, 0]), { bootstrap: 0 });
  close(r.auroc.value, 0.75);
  assert.equal(r.positiveClass, 1);
  assert.ok(Number.isNaN(r.auroc.low) && Number.isNaN(r.auroc.high), 'no interval without bootstrap');
  close(r.perClass[0].auroc.value, 0.75, 1e-6); // the scores 1 − s order the images the other way round
});

test('multi-class AUROC one-vs-rest and macro; an absent class is NaN with a reason, not a crash', () => {
  // rows p̄ = [0.7 .2 .1], [.4 .5 .1], [.3 .6 .1], [.5 .2 .3]; labels 0 0 1 1; class 2 absent.
  // class 0: pos {0.7, 0.4} vs neg {0.3, 0.5}: 1 + 1 + 1 + 0 = 3 / 4 = 0.75
  // class 1: pos {0.6, 0.2} vs neg {0.2, 0.5}: 1 + 1 + ½ + 0 = 2.5 / 4 = 0.625
  // macro over the classes present: (0.75 + 0.625) / 2 = 0.6875
  const p = Float32Array.from([0.7, 0.2, 0.1, 0.4, 0.5, 0.1, 0.3, 0.6, 0.1, 0.5, 0.2, 0.3]);
  const r = classificationReport(p, Int32Array.from([0, 0, 1, 1]), { bootstrap: 50 });
  close(r.perClass[0].auroc.value, 0.75);
  close(r.perClass[1].auroc.value, 0.625);
  assert.ok(Number.isNaN(r.perClass[2].auroc.value));
  assert.match(r.perClass[2].auroc.reason!, /class 2 is absent/);
  close(r.auroc.value, 0.6875);
  assert.match(r.auroc.reason!, /macro mean over 2 of 3 classes/);
  assert.equal(r.positiveClass, null);
  // argmax 0, 1, 1, 0 → confusion [[1 1 0] [1 1 0] [0 0 0]]; recall 0.5, 0.5 → balanced 0.5
  assert.deepEqual(r.confusion, [[1, 1, 0], [1, 1, 0], [0, 0, 0]]);
  close(r.balancedAccuracy.value, 0.5);
  close(r.sensitivity.value, 0.5);
  assert.match(r.perClass[2].ppv.reason!, /never predicted/);
  close(r.perClass[2].specificity.value, 1); // TN 4 / (TN 4 + FP 0)
  assert.deepEqual(r.prevalence, { counts: [2, 2, 0], shares: [0.5, 0.5, 0] });
});

test('sensitivity, specificity, PPV, NPV at a threshold on a hand-made confusion matrix', () => {
  // positives: 40 at 0.8, 10 at 0.2; negatives: 20 at 0.5, 130 at 0.1. Threshold 0.3 →
  // TP 40, FN 10, FP 20, TN 130: sens 40/50 = 0.8, spec 130/150, PPV 40/60, NPV 130/140
  const scores = [...Array(40).fill(0.8), ...Array(10).fill(0.2), ...Array(20).fill(0.5), ...Array(130).fill(0.1)];
  const labels = Int32Array.from([...Array(50).fill(1), ...Array(150).fill(0)]);
  const r = classificationReport(binary(scores), labels, { threshold: 0.3, bootstrap: 200 });
  assert.deepEqual(r.confusion, [[130, 20], [10, 40]]);
  close(r.sensitivity.value, 0.8);
  close(r.specificity.value, 130 / 150);
  close(r.ppv.value, 40 / 60);
  close(r.npv.value, 130 / 140);
  close(r.accuracy.value, 170 / 200);
  close(r.balancedAccuracy.value, (0.8 + 130 / 150) / 2);
  assert.deepEqual(r.operatingPoint, { rule: 'threshold', threshold: 0.3, positiveClass: 1 });
  close(r.prevalence.shares[1], 0.25);
  for (const m of [r.accuracy, r.sensitivity, r.specificity, r.ppv, r.npv, r.auroc, r.nll, r.ece, r.brier]) assert.ok(m.low <= m.value && m.value <= m.high, JSON.stringify(m));

  // Argmax: [0.5, 0.5] goes to class 0, so the 20 negatives at 0.5 are no longer false positives.
  const argmax = classificationReport(binary(scores), labels, { bootstrap: 0 });
  assert.deepEqual(argmax.confusion, [[150, 0], [10, 40]]);
  // positive class 0 swaps the roles: its sensitivity is class 1's specificity
  const swapped = classificationReport(binary(scores), labels, { positiveClass: 0, bootstrap: 0 });
  close(swapped.sensitivity.value, argmax.specificity.value);
  close(swapped.ppv.value, argmax.npv.value);
  // ECE, NLL, Brier are those of bdl/metrics.ts
  const ev = evaluate(binary(scores), labels, 2);
  close(argmax.ece.value, ev.ece);
  close(argmax.nll.value, ev.nll);
  close(argmax.brier.value, ev.brier);
});

test('quadratic weighted kappa and mean absolute grade error on a hand-worked 3-grade case', () => {
  // labels 0 0 1 1 2 2, argmax grades 0 1 1 1 2 0 → O = [[1 1 0] [0 2 0] [1 0 1]], rows 2 2 2, cols 2 3 1.
  // w_ij = (i − j)²/4: Σ w·O = ¼·O01 + 1·O20 = 1.25
  // E_ij = rows_i·cols_j / 6 = cols_j / 3 = [⅔ 1 ⅓] in every row:
  // Σ w·E = (¼·1 + 1·⅓) + (¼·⅔ + ¼·⅓) + (1·⅔ + ¼·1) = 7/12 + 3/12 + 11/12 = 1.75
  // κ = 1 − 1.25 / 1.75 = 2/7; grade errors 0 1 0 0 0 2 → MAE 3/6 = 0.5
  const onehot = (k: number) => [0, 1, 2].map((c) => (c === k ? 0.8 : 0.1));
  const p = Float32Array.from([0, 1, 1, 1, 2, 0].flatMap(onehot));
  const r = classificationReport(p, Int32Array.from([0, 0, 1, 1, 2, 2]), { ordinal: true, bootstrap: 0 });
  close(r.ordinal!.qwk.value, 2 / 7);
  close(r.ordinal!.meanAbsoluteError.value, 0.5);
  const perfect = classificationReport(p, Int32Array.from([0, 1, 1, 1, 2, 0]), { ordinal: true, bootstrap: 0 });
  close(perfect.ordinal!.qwk.value, 1);
  assert.equal(classificationReport(p, Int32Array.from([0, 0, 1, 1, 2, 2]), { bootstrap: 0 }).ordinal, undefined);
});

test('the 95% bootstrap interval of accuracy covers the true 0.8 in about 95% of repeated draws', () => {
  // 200 data sets of N = 100 images, each classified correctly with probability 0.8.
  const rand = mulberry32(7);
  const draws = 200;
  const N = 100;
  let covered = 0;
  for (let d = 0; d < draws; d++) {
    const labels = Int32Array.from({ length: N }, () => (rand() < 0.3 ? 1 : 0));
    const scores = Array.from(labels, (y) => {
      const correct = rand() < 0.8;
      const confidence = 0.55 + 0.4 * rand();
      return (y === 1) === correct ? confidence : 1 - confidence;
    });
    const r = classificationReport(binary(scores), labels, { bootstrap: 400, seed: d });
    if (r.accuracy.low <= 0.8 && 0.8 <= r.accuracy.high) covered++;
  }
  const coverage = covered / draws;
  // The percentile interval of a binomial proportion at N = 100 covers slightly under 95%; ± 2.5 sd of 200 draws.
  assert.ok(coverage >= 0.9 && coverage <= 0.99, `coverage ${coverage}`);
});

test('a seed gives the same intervals; resamples where a metric is undefined are skipped and counted', () => {
  const rand = mulberry32(3);
  const labels = Int32Array.from({ length: 30 }, (_, n) => (n === 0 ? 1 : 0));
  const p = binary(Array.from(labels, (y) => (y ? 0.7 : 0.4 * rand())));
  const a = classificationReport(p, labels, { seed: 5, bootstrap: 300 });
  const b = classificationReport(p, labels, { seed: 5, bootstrap: 300 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(classificationReport(p, labels, { seed: 6, bootstrap: 300 }).brier, a.brier);
  // One positive in 30: a resample misses it with probability (29/30)^30 ≈ 0.36.
  assert.ok(a.auroc.skippedResamples > 60 && a.auroc.skippedResamples < 160, `${a.auroc.skippedResamples}`);
  assert.equal(a.accuracy.skippedResamples, 0);
  assert.equal(a.bootstrap.resamples, 300);
});

test('bad input is refused with a clear message', () => {
  const p = binary([0.2, 0.8]);
  const y = Int32Array.from([0, 1]);
  assert.throws(() => classificationReport(p, Int32Array.from([0, 1, 1])), /not N·C/);
  assert.throws(() => classificationReport(p, new Int32Array(0)), /no images/);
  assert.throws(() => classificationReport(p, Int32Array.from([0, 2])), /label 2 of image 1 is not a class in \[0, 2\)/);
  assert.throws(() => classificationReport(Float32Array.from([0.5, 0.6, 0.5, 0.5]), y), /sum to/);
  for (const threshold of [0, 1, -0.1, Number.NaN]) assert.throws(() => classificationReport(p, y, { threshold }), /not in \(0, 1\)/);
  const three = Float32Array.from([0.2, 0.3, 0.5]);
  assert.throws(() => classificationReport(three, Int32Array.from([2]), { threshold: 0.5 }), /threshold is for two classes/);
  assert.throws(() => classificationReport(p, y, { positiveClass: 2 }), /positiveClass 2/);
  assert.throws(() => classificationReport(p, y, { bootstrap: -1 }), /bootstrap -1/);
  assert.throws(() => classificationReport(p, y, { bootstrap: 1.5 }), /bootstrap 1.5/);
});
