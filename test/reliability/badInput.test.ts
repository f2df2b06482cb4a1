// Bad-input corpus through the real import path: generated broken files, seeded mutations of the
// shared DICOM samples and every kept regression, all in ONE importPaths call in a child process, so a
// crash or a hang is seen (and its input kept) instead of taking the test runner down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findImageBySha } from '../../src-main/db/images.ts';
import { initProject, openProject } from '../../src-main/db/project.ts';
import type { ImportSummary } from '../../src-main/import/importer.ts';
import { collectImageFiles } from '../../src-main/import/walk.ts';
import { repoRoot, sharedDicom, skipWithoutShared, tempDir } from '../helpers/tmp.ts';
import { applyRecipe, generateCorpus, mutateSamples, type CorpusCase, type Recipe } from './corpus.ts';

const REGRESSIONS = path.join(import.meta.dirname, 'regressions');
const MUTATIONS = 300;
const PER_FILE_MS = 5_000; // a hang guard, not a speed target
const STALL_MS = 30_000;
const MAX_RSS_GROWTH = 400 * 2 ** 20;
const CODES = new Set(['unreadable', 'truncated', 'not-an-image', 'too-many-pixels', 'unsupported-transfer-syntax', 'no-pixel-data', 'unsupported-image']);
/** A message that is really a bug surfacing (a JS engine error), not an explanation for the user. */
const ENGINE_ERROR = /Cannot read prop|is not a function|is not defined|Maximum call stack|Invalid array length|out of memory|\[object Object\]/i;

type Case = CorpusCase & { recipe?: Recipe };
interface Line { file?: string; ms?: number; summary?: ImportSummary; rssStart?: number; maxRss?: number }

function regressionCases(): Case[] {
  const out: Case[] = [];
  for (const name of fs.existsSync(REGRESSIONS) ? fs.readdirSync(REGRESSIONS).sort() : []) {
    if (name === 'README.md') continue;
    const file = path.join(REGRESSIONS, name);
    if (!name.endsWith('.recipe.json')) out.push({ name: `regression-${name}`, bytes: fs.readFileSync(file), expect: 'either' });
    else if (fs.existsSync(sharedDicom)) {
      const recipe = JSON.parse(fs.readFileSync(file, 'utf8')) as Recipe;
      out.push({ name: `regression-${name.replace(/\.recipe\.json$/, '')}`, bytes: applyRecipe(sharedDicom, recipe), expect: 'either', recipe });
    }
  }
  return out;
}

/** Keeps the input that crashed or hung: our own bytes as they are, a shared sample's mutation as its recipe. */
function keepRegression(c: Case): string {
  fs.mkdirSync(REGRESSIONS, { recursive: true });
  const name = c.name.replace(/^regression-/, '');
  const file = path.join(REGRESSIONS, c.recipe ? `${name}.recipe.json` : name);
  if (c.recipe) fs.writeFileSync(file, `${JSON.stringify(c.recipe)}\n`);
  else fs.writeFileSync(file, c.bytes);
  return file;
}

async function runChild(projectDir: string, inputDir: string, logFile: string): Promise<{ code: number | null; signal: string | null; stalled: boolean; stderr: string }> {
  const child = spawn(process.execPath, ['--import', path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs'), path.join(import.meta.dirname, 'importChild.ts'), projectDir, inputDir, logFile], {
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let size = -1;
  let lastChange = Date.now();
  let stalled = false;
  const watchdog = setInterval(() => {
    const now = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    if (now !== size) [size, lastChange] = [now, Date.now()];
    else if (Date.now() - lastChange > STALL_MS) {
      stalled = true;
      child.kill('SIGKILL');
    }
  }, 500);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearInterval(watchdog);
  return { code, signal, stalled, stderr };
}

test('bad-input corpus: every bad file fails on its own, good files beside them import, nothing crashes or hangs', { timeout: 15 * 60_000 }, async (t) => {
  const generated: Case[] = await generateCorpus(1);
  const shared = skipWithoutShared(sharedDicom);
  if (shared) t.diagnostic(`mutations of the real samples skipped: ${shared}`);
  const mutants: Case[] = shared ? [] : mutateSamples(sharedDicom, MUTATIONS, 7);
  const regressions = regressionCases();
  const cases = [...generated, ...mutants, ...regressions];

  const root = tempDir('episteme-badinput-');
  const inputDir = path.join(root, 'input');
  fs.mkdirSync(inputDir);
  for (const c of cases) fs.writeFileSync(path.join(inputDir, c.name), c.bytes);
  initProject(path.join(root, 'project'), { classes: ['a', 'b'], imageSize: 28 }).close();
  const files = collectImageFiles([inputDir]).files;
  assert.equal(files.length, cases.length, 'every corpus file is picked up by the folder walk');

  const logFile = path.join(root, 'progress.ndjson');
  const run = await runChild(path.join(root, 'project'), inputDir, logFile);
  const lines = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) : [];
  const perFile = lines.filter((l) => l.file);
  const crashed = run.code !== 0 || run.signal !== null;
  if (crashed) {
    const culprit = cases.find((c) => path.join(inputDir, c.name) === files[perFile.length]);
    const kept = culprit ? keepRegression(culprit) : 'unknown';
    assert.fail(`import ${run.stalled ? 'hung' : `died (exit ${run.code}, signal ${run.signal})`} on ${files[perFile.length]} after ${perFile.length} files; kept as ${kept}\n${run.stderr}`);
  }

  const end = lines.at(-1)!;
  const summary = end.summary!;
  const slowest = perFile.reduce((a, b) => (b.ms! > a.ms! ? b : a));
  const rssGrowth = end.maxRss! - end.rssStart!;
  const failedByPath = new Map(summary.failed.map((f) => [f.path, f]));
  const project = openProject(path.join(root, 'project'));
  const problems: string[] = [];
  for (const c of cases) {
    const failure = failedByPath.get(path.join(inputDir, c.name));
    const imported = !!findImageBySha(project.db, createHash('sha256').update(c.bytes).digest('hex'));
    if (failure) {
      if (c.expect === 'ok') problems.push(`${c.name}: should import, failed [${failure.code}] ${failure.message}`);
      if (!CODES.has(failure.code) || (c.codes && !c.codes.includes(failure.code))) problems.push(`${c.name}: code ${failure.code}, expected ${c.codes?.join('|') ?? 'an image error code'}`);
      if (failure.message.trim().length < 10 || ENGINE_ERROR.test(failure.message)) problems.push(`${c.name}: unclear message: ${failure.message}`);
    } else if (c.expect === 'fail') problems.push(`${c.name}: should fail, was ${imported ? 'imported' : 'neither imported nor reported'}`);
    else if (!imported) problems.push(`${c.name}: neither imported nor reported as failed`);
  }
  project.close();

  const failed = summary.failed.length;
  console.log(
    `bad-input corpus: ${files.length} files tried (${generated.length} generated, ${mutants.length} mutations of shared samples, ${regressions.length} regressions); ` +
      `${failed} refused with a per-file error, ${files.length - failed} imported; crashes 0, hangs 0; ` +
      `slowest file ${slowest.ms!.toFixed(0)} ms (${path.basename(slowest.file!)}); peak RSS growth ${(rssGrowth / 2 ** 20).toFixed(0)} MB`,
  );
  assert.deepEqual(problems.slice(0, 30), [], `${problems.length} files did not end as expected`);
  assert.equal(summary.added + summary.unchanged + summary.moved + failed, files.length, 'every file is accounted for once');
  assert.ok(slowest.ms! < PER_FILE_MS, `${slowest.file} took ${slowest.ms} ms`);
  assert.ok(rssGrowth < MAX_RSS_GROWTH, `peak RSS grew by ${(rssGrowth / 2 ** 20).toFixed(0)} MB`);
});
