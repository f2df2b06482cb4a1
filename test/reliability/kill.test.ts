import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/tmp.ts';
import { killTrial, makeKillProject } from './killTrials.ts';

const TRIALS = 6;

test(`kill -9 while labelling (${TRIALS} trials): every acknowledged label survives, the database stays intact`, async () => {
  const root = tempDir();
  const projectDir = path.join(root, 'p');
  makeKillProject(projectDir);
  let acknowledged = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const outcome = await killTrial(projectDir, path.join(root, 'home'), 100 + Math.floor(Math.random() * 400));
    assert.equal(outcome.integrity, 'ok', `trial ${trial}`);
    assert.equal(outcome.lost, 0, `trial ${trial}: acknowledged labels lost`);
    assert.equal(outcome.mismatched, 0, `trial ${trial}: labels stored differently than acknowledged`);
    assert.ok(outcome.stored >= outcome.acknowledged);
    acknowledged += outcome.acknowledged;
  }
  assert.ok(acknowledged > TRIALS * 5, `the child labelled (${acknowledged} acknowledged labels)`);
});
