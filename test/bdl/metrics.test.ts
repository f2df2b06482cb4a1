import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from '../../src-main/bdl/metrics.ts';
import { approx } from './helpers.ts';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(approx(a, b, tol), `${a} ≉ ${b}`);

test('accuracy, nll, brier, ece on a hand-computed 2-class example', () => {
  // N = 4, C = 2 (confidences chosen away from bin edges, which float32 would blur)
  const p = Float32Array.from([0.9, 0.1, 0.65, 0.35, 0.3, 0.7, 0.85, 0.15]);
  const y = Int32Array.from([0, 1, 1, 0]);
  const r = evaluate(p, y, 2);
  // predictions 0, 0, 1, 0 → correct: yes, no, yes, yes
  close(r.accuracy, 0.75);
  close(r.nll, -(Math.log(0.9) + Math.log(0.35) + Math.log(0.7) + Math.log(0.85)) / 4);
  // brier: 2·0.1² + 2·0.65² + 2·0.3² + 2·0.15² = 0.02 + 0.845 + 0.18 + 0.045 = 1.09 → /4
  close(r.brier, 0.2725, 1e-6);
  // 15 bins (l, u] of width 1/15: 0.9 → bin 13, 0.65 → bin 9, 0.7 → bin 10, 0.85 → bin 12
  // ece = 1/4 (|1−0.9| + |0−0.65| + |1−0.7| + |1−0.85|) = 1.2/4 = 0.3
  close(r.ece, 0.3, 1e-6);
  assert.equal(r.top5, undefined);
  assert.equal(r.reliability.length, 15);
  const nonEmpty = r.reliability.filter((b) => b.count > 0).map((b) => Math.round(b.binLower * 15));
  assert.deepEqual(nonEmpty, [9, 10, 12, 13]);
  const b9 = r.reliability[9];
  close(b9.confidence, 0.65, 1e-6);
  assert.equal(b9.accuracy, 0);
  assert.equal(b9.count, 1);
  close(b9.binLower, 9 / 15);
  close(b9.binUpper, 10 / 15);
  close(r.reliability[14].binUpper, 1);
  assert.equal(r.reliability.reduce((a, b) => a + b.count, 0), 4);
});

test('perfectly calibrated bins give ece 0; two examples in one bin average', () => {
  // both at confidence 0.5 → one bin, accuracy 0.5 → ece 0
  const p = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
  const r = evaluate(p, Int32Array.from([0, 1]), 2);
  close(r.accuracy, 0.5); // argmax ties → class 0
  close(r.ece, 0, 1e-9);
  close(r.brier, 0.5);
});

test('top5 only for C > 5, counted with argmax tie-breaking', () => {
  const C = 7;
  const row = (order: number[]) => {
    const v = new Array(C).fill(0);
    order.forEach((c, rank) => (v[c] = (C - rank) / 28)); // 7+6+…+1 = 28
    return v;
  };
  // image 0: label ranked 1st; image 1: label ranked 5th; image 2: label ranked 6th
  const p = Float32Array.from([...row([3, 0, 1, 2, 4, 5, 6]), ...row([0, 1, 2, 3, 6, 4, 5]), ...row([0, 1, 2, 3, 4, 5, 6])]);
  const r = evaluate(p, Int32Array.from([3, 6, 5]), C);
  close(r.accuracy, 1 / 3);
  close(r.top5!, 2 / 3);
});

test('input validation', () => {
  assert.throws(() => evaluate(new Float32Array(3), Int32Array.from([0, 1]), 2), /expected N·C/);
  assert.throws(() => evaluate(Float32Array.from([1, 0]), Int32Array.from([2]), 2), /not in/);
});
