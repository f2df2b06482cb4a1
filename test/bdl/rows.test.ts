import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatherRows } from '../../src-main/bdl/util/rows.ts';

test('gatherRows takes rows in the given order, repeats allowed, keeping the array type', () => {
  const images = Uint8Array.from({ length: 12 }, (_, i) => i); // [4, 3]
  const picked = gatherRows(images, 3, [2, 0, 2]);
  assert.ok(picked instanceof Uint8Array);
  assert.deepEqual([...picked], [6, 7, 8, 0, 1, 2, 6, 7, 8]);
  const labels = Int32Array.from([5, 6, 7]);
  const y = gatherRows(labels, 1, Int32Array.from([1, 2]));
  assert.ok(y instanceof Int32Array);
  assert.deepEqual([...y], [6, 7]);
  const features = gatherRows(Float32Array.from([0.5, 1.5, 2.5, 3.5]), 2, [1]);
  assert.ok(features instanceof Float32Array);
  assert.deepEqual([...features], [2.5, 3.5]);
  assert.equal(gatherRows(images, 3, []).length, 0);
});

test('gatherRows refuses a row outside the array instead of reading zeros', () => {
  const x = new Uint8Array(6);
  assert.throws(() => gatherRows(x, 3, [2]), /row 2 is outside \[0, 2\)/);
  assert.throws(() => gatherRows(x, 3, [-1]), RangeError);
  assert.throws(() => gatherRows(x, 3, [0.5]), RangeError);
});
