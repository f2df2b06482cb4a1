/**
 * The active-learning benchmark end to end, kept short: a tiny generated image folder through the
 * CLI (rounds.csv, summary.json, learning-curve.svg), and a very short MNIST run (skipped without
 * ../shared).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { simulate } from '../../src-main/simulate/simulate.ts';
import { ROUND_COLUMNS } from '../../src-main/simulate/report.ts';
import { parseCsvRecords } from '../../src-main/util/csv.ts';
import { episteme } from '../helpers/cli.ts';
import { repoRoot, sharedMnist, skipWithoutShared, tempDir } from '../helpers/tmp.ts';
import { writeSyntheticFolder } from './helpers.ts';

test('simulate on a synthetic image folder writes rounds.csv, summary.json and learning-curve.svg', { timeout: 300_000 }, async () => {
  const root = tempDir('episteme-sim-');
  const data = await writeSyntheticFolder(path.join(root, 'images'));
  const out = path.join(root, 'out');
  const acquisitions = ['bald', 'batchbald', 'random'];
  const run = await episteme([
    'simulate',
    '--dataset', data,
    '--acquisition', acquisitions.join(','),
    '--initial', '4',
    '--step', '4',
    '--rounds', '2',
    '--seeds', '1',
    '--epochs', '3',
    '--samples', '4',
    '--warm-start', 'kcenter',
    '--warm-start-rounds', '1',
    '--out', out,
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const printed = JSON.parse(run.stdout);
  assert.equal(printed.complete, true);
  assert.equal(printed.dataset.kind, 'folder');
  assert.deepEqual(printed.dataset.classes, ['bars', 'rings']);
  assert.equal(printed.dataset.pool + printed.dataset.test, 120);
  assert.equal(printed.dataset.test, 24, 'a per-class 80/20 split');

  // rounds.csv: one row per (acquisition, seed, round), rounds 0..2, labels 4, 8, 12.
  const rows = parseCsvRecords(fs.readFileSync(path.join(out, 'rounds.csv'), 'utf8'), [...ROUND_COLUMNS]);
  assert.equal(rows.length, acquisitions.length * 3);
  for (const acquisition of acquisitions) {
    const mine = rows.filter((r) => r.acquisition === acquisition);
    assert.deepEqual(mine.map((r) => Number(r.round)), [0, 1, 2]);
    assert.deepEqual(mine.map((r) => Number(r.labels)), [4, 8, 12]);
    assert.deepEqual(mine.map((r) => r.selected_by), ['initial', 'warm-start:kcenter', acquisition]);
    for (const r of mine) {
      for (const k of ['accuracy', 'ece']) assert.ok(Number(r[k]) >= 0 && Number(r[k]) <= 1, `${k} = ${r[k]}`);
      assert.ok(Number(r.nll) > 0);
      assert.equal(Number(r.epochs), 3);
    }
    assert.equal(mine[0].agreement, '', 'no previous model in round 0');
    assert.equal(mine[2].max_epistemic, '', 'the pool is not scored after the last round');
    assert.ok(Number(mine[1].max_epistemic) >= 0);
  }

  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.deepEqual(summary.acquisitions.map((a: { acquisition: string }) => a.acquisition), acquisitions);
  for (const a of summary.acquisitions) {
    assert.equal(a.curve.length, 3);
    assert.equal(a.labelsTo90.perSeed.length, 1);
    // Quartiles of one seed are that seed's value (or null when not reached).
    assert.equal(a.labelsTo90.median, a.labelsTo90.perSeed[0]);
    assert.ok(['number', 'object'].includes(typeof a.labelsTo95.median));
  }
  assert.equal(summary.options.initial, 4);
  assert.equal(summary.options.epochs, 3);

  const svg = fs.readFileSync(path.join(out, 'learning-curve.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/class="median"/g) ?? []).length, acquisitions.length);
  assert.equal((svg.match(/class="band"/g) ?? []).length, acquisitions.length);
  for (const a of acquisitions) assert.ok(svg.includes(`>${a} (`), `legend entry for ${a}`);
  assert.match(svg, /labelled images/);
  assert.match(svg, /held-out accuracy/);
});

test('untilAccuracy ends a run at the first round that reaches it, with the same rounds as the full run', { timeout: 300_000 }, async () => {
  const root = tempDir('episteme-sim-until-');
  const dataset = await writeSyntheticFolder(path.join(root, 'images'));
  const options = { dataset, acquisitions: ['bald'] as const, initial: 4, step: 4, rounds: 3, seeds: 1, epochs: 3, samples: 4 };
  const full = await simulate({ ...options, acquisitions: [...options.acquisitions] });
  const accuracies = full.rounds.map((r) => r.accuracy);
  assert.equal(accuracies.length, 4);
  // The target: the first accuracy above every earlier one (round 0's when none is), so the run must stop exactly there.
  let stopAt = 0;
  for (let r = 1; r < accuracies.length && stopAt === 0; r++) if (accuracies[r] > Math.max(...accuracies.slice(0, r))) stopAt = r;
  const target = accuracies[stopAt];
  const cut = await simulate({ ...options, acquisitions: [...options.acquisitions], untilAccuracy: target });
  const pick = (r: { round: number; labels: number; accuracy: number; nll: number }) => ({ round: r.round, labels: r.labels, accuracy: r.accuracy, nll: r.nll });
  assert.deepEqual(cut.rounds.map(pick), full.rounds.slice(0, stopAt + 1).map(pick));
  assert.equal(cut.rounds.at(-1)!.maxEpistemic, null, 'the pool is not scored once the target is reached');
  assert.equal(cut.summary.complete, true);
  assert.equal(cut.summary.options.untilAccuracy, target);
  await assert.rejects(simulate({ ...options, acquisitions: ['bald'], untilAccuracy: 1.5 }), /untilAccuracy must be in \(0, 1\]/);
});

test('Ctrl-C during simulate writes the rounds measured so far as a partial result', { timeout: 180_000 }, async () => {
  const root = tempDir('episteme-sim-sigint-');
  const dataset = await writeSyntheticFolder(path.join(root, 'images'));
  const out = path.join(root, 'out');
  const child = spawn(path.join(repoRoot, 'bin/episteme'), ['simulate', '--dataset', dataset, '--acquisition', 'bald', '--initial', '4', '--step', '4', '--rounds', '50', '--seeds', '1', '--epochs', '30', '--samples', '3', '--out', out]);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Interrupt once round 1 is measured, while round 2 trains.
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (/round +1 +labels/.test(stdout)) resolve();
    });
    void exited.then(() => reject(new Error(`simulate exited before round 1: ${stderr}`)));
  });
  child.kill('SIGINT');
  assert.equal(await exited, 1);
  assert.match(stderr, /partial results \(\d+ rounds\) written to/);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.complete, false);
  const rows = parseCsvRecords(fs.readFileSync(path.join(out, 'rounds.csv'), 'utf8'), [...ROUND_COLUMNS]);
  assert.ok(rows.length >= 2 && rows.length < 51, `${rows.length} rounds`);
  assert.deepEqual(rows.slice(0, 2).map((r) => Number(r.labels)), [4, 8]);
});

test('simulate on MNIST: a very short run end to end', { timeout: 600_000, skip: skipWithoutShared(sharedMnist) }, async () => {
  const progress: number[] = [];
  const result = await simulate(
    { dataset: sharedMnist, acquisitions: ['bald'], initial: 20, step: 10, rounds: 2, seeds: 1, poolSubset: 500, epochs: 5, samples: 5, testSize: 500 },
    { onProgress: (p) => progress.push(p.fraction) },
  );
  assert.equal(result.summary.dataset.kind, 'mnist');
  assert.equal(result.summary.dataset.pool, 8000);
  assert.equal(result.summary.dataset.test, 500);
  assert.deepEqual(result.rounds.map((r) => r.labels), [20, 30, 40]);
  assert.ok(result.rounds.every((r) => r.accuracy > 0.1 && Number.isFinite(r.nll) && r.ece >= 0));
  assert.ok(result.rounds[0].acquireSeconds > 0 && result.rounds[2].acquireSeconds === 0);
  assert.equal(result.summary.complete, true);
  assert.ok(progress.length > 3 && progress.every((f, i) => i === 0 || f >= progress[i - 1] - 1e-9), 'progress is monotone');
  assert.ok(Math.abs(progress.at(-1)! - 1) < 1e-9);
});
