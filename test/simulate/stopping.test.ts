/** The stopping signal, the cold-start helpers and the summary statistics (pure functions, fast). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { balancedInitial, kCenterGreedy } from '../../src-main/simulate/coldStart.ts';
import { snapshotFromScores, stoppingSignal, type ModelSnapshot } from '../../src-main/simulate/stopping.ts';
import { labelsToReach, quantile, summariseAcquisition } from '../../src-main/simulate/summary.ts';
import type { RoundRecord } from '../../src-main/simulate/types.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('stoppingSignal', () => {
  const predicted = ids(200).map((i) => i % 3);
  const prev: ModelSnapshot = { ids: ids(200), predicted, epistemic: [0.4, 0.2], nLabels: 50 };

  test('first version: nothing to compare, no stop', () => {
    const s = stoppingSignal(null, prev);
    assert.equal(s.stop, false);
    assert.equal(s.agreement, null);
    assert.equal(s.maxEpistemic, 0.4);
    assert.match(s.reason, /first model version/);
  });

  test('stable predictions stop; changing ones do not', () => {
    const stable = { ...prev, predicted: predicted.map((p, i) => (i === 0 ? (p + 1) % 3 : p)), nLabels: 60 };
    const s = stoppingSignal(prev, stable);
    assert.equal(s.agreement, 199 / 200);
    assert.equal(s.stop, true);
    assert.match(s.reason, /predictions stable: 99\.5% of 200/);

    const changing = { ...prev, predicted: predicted.map((p, i) => (i < 10 ? (p + 1) % 3 : p)), nLabels: 60 };
    const c = stoppingSignal(prev, changing);
    assert.equal(c.agreement, 190 / 200);
    assert.equal(c.stop, false);
    assert.match(c.reason, /still changing: 95\.0% unchanged/);
    assert.equal(stoppingSignal(prev, changing, { agreementThreshold: 0.9 }).stop, true);
  });

  test('low epistemic uncertainty stops on its own', () => {
    const changing = { ...prev, predicted: predicted.map((p) => (p + 1) % 3), epistemic: [0.004, 0.001], nLabels: 60 };
    const s = stoppingSignal(prev, changing);
    assert.equal(s.agreement, 0);
    assert.equal(s.maxEpistemic, 0.004);
    assert.equal(s.stop, true);
    assert.match(s.reason, /low epistemic uncertainty/);
    assert.equal(stoppingSignal(prev, changing, { epistemicThreshold: 0.001 }).stop, false);
  });

  test('compares only the images both versions scored, and needs enough of them', () => {
    // The current pool lost images 0–99 (labelled since) and has new ids the previous one lacked.
    const cur: ModelSnapshot = { ids: [...ids(200).slice(100), 500, 501], predicted: [...predicted.slice(100), 0, 0], epistemic: [0.3], nLabels: 150 };
    const s = stoppingSignal(prev, cur);
    assert.equal(s.agreement, 1);
    assert.equal(s.stop, true);
    const few = stoppingSignal(prev, { ids: [0, 1, 2], predicted: [0, 1, 2], epistemic: [0.3], nLabels: 150 });
    assert.equal(few.agreement, null);
    assert.equal(few.stop, false);
    assert.match(few.reason, /too few/);
  });

  test('no new labels between versions: agreement says nothing', () => {
    const s = stoppingSignal(prev, { ...prev });
    assert.equal(s.agreement, 1);
    assert.equal(s.stop, false);
    assert.match(s.reason, /no labels were added/);
  });

  test('point estimates have no epistemic score', () => {
    const snap = snapshotFromScores([{ imageId: 3, predicted: 1, epistemic: 0 }], { hasEpistemic: false, nLabels: 10 });
    assert.equal(snap.epistemic, null);
    const s = stoppingSignal(null, snap);
    assert.equal(s.maxEpistemic, null);
    assert.equal(s.stop, false, 'a MAP model (epistemic 0) must not look certain');
  });
});

describe('cold start', () => {
  test('balancedInitial takes the classes in equal shares', () => {
    const labels = Int32Array.from({ length: 300 }, (_, i) => i % 3);
    const pick = balancedInitial(labels, 20, 3, 7);
    assert.equal(new Set(pick).size, 20);
    const counts = [0, 0, 0];
    for (const i of pick) counts[labels[i]]++;
    assert.deepEqual([...counts].sort(), [6, 7, 7]);
    // A class with too few images gives way to the others.
    const skewed = Int32Array.from({ length: 100 }, (_, i) => (i < 2 ? 1 : 0));
    const s = balancedInitial(skewed, 10, 2, 1);
    assert.equal([...s].filter((i) => skewed[i] === 1).length, 2);
    assert.equal(s.length, 10);
  });

  test('kCenterGreedy picks the farthest points from the centres', () => {
    // 1-D points 0, 1, 2, …, 10; centre at 0: first pick 10, then 5, then the first of the ties at distance 2.
    const f = Float32Array.from(ids(11));
    assert.deepEqual([...kCenterGreedy(f, 1, [0], ids(11).slice(1), 3)], [10, 5, 2]);
    // Without centres the first pick is a seeded random candidate; then the farthest from it.
    const noCentre = kCenterGreedy(f, 1, [], ids(11), 2, 3);
    assert.equal(noCentre.length, 2);
    assert.equal(Math.abs(noCentre[1] - noCentre[0]), Math.max(noCentre[0], 10 - noCentre[0]));
  });
});

describe('summary statistics', () => {
  test('quantiles treat an unreached target as infinite', () => {
    assert.equal(quantile([30, 10, 20], 0.5), 20);
    assert.equal(quantile([10, 20, 30, 40], 0.25), 17.5);
    assert.equal(quantile([10, 20, Infinity], 0.5), 20);
    assert.equal(quantile([10, Infinity, Infinity], 0.5), null);
    assert.equal(quantile([10, 20, Infinity], 0.75), null);
  });

  test('labels to reach a target and curves over seeds', () => {
    const rec = (seed: number, round: number, accuracy: number): RoundRecord => ({
      acquisition: 'bald', seed, round, labels: 20 + 10 * round, accuracy, nll: 1, ece: 0.1, brier: 0.2, selectedBy: 'bald', epochs: 1,
      trainSeconds: 1, acquireSeconds: 1, roundSeconds: 2, agreement: null, maxEpistemic: null, stop: round === 2 && seed === 0,
    });
    const records = [rec(0, 0, 0.5), rec(0, 1, 0.91), rec(0, 2, 0.96), rec(1, 0, 0.6), rec(1, 1, 0.8), rec(1, 2, 0.92), rec(2, 0, 0.4), rec(2, 1, 0.7), rec(2, 2, 0.85)];
    assert.equal(labelsToReach(records.slice(0, 3), 0.9), 30);
    const s = summariseAcquisition('bald', records);
    assert.equal(s.seeds, 3);
    assert.deepEqual(s.labelsTo90.perSeed, [30, 40, null]);
    assert.equal(s.labelsTo90.median, 40);
    assert.equal(s.labelsTo90.q1, 35);
    assert.equal(s.labelsTo90.q3, null);
    assert.deepEqual(s.labelsTo95.perSeed, [40, null, null]);
    assert.equal(s.labelsTo95.median, null);
    assert.deepEqual(s.curve.map((c) => c.median), [0.5, 0.8, 0.92]);
    assert.deepEqual(s.firstStopLabels, [40, null, null]);
    assert.equal(s.secondsPerRound, 2);
  });
});
