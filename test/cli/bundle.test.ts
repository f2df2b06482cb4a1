/**
 * The CLI bundle (scripts/build-cli.mjs), built into a temporary root whose node_modules holds every
 * installed package except tsx, and run with plain `node`: nothing may need tsx or src-main at run time,
 * worker threads included, and `--help` / `label` must not load TF.js or sharp (start-up time).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { repoRoot, tempDir } from '../helpers/tmp.ts';

type BuildCli = (options: { outDir: string; logLevel?: string }) => Promise<{ cli: string; workers: string[] }>;

const root = tempDir('episteme-bundle-');
let cli = '';
let loadLog = '';

before(async () => {
  const modules = path.join(root, 'node_modules');
  fs.mkdirSync(modules);
  for (const name of fs.readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (name !== 'tsx') fs.symlinkSync(path.join(repoRoot, 'node_modules', name), path.join(modules, name));
  }
  const { buildCli } = (await import(pathToFileURL(path.join(repoRoot, 'scripts/build-cli.mjs')).href)) as { buildCli: BuildCli };
  ({ cli } = await buildCli({ outDir: path.join(root, 'dist/cli'), logLevel: 'error' }));
  // Records every package the process and its workers load (-r is inherited by worker threads).
  loadLog = path.join(root, 'loaded.log');
  fs.writeFileSync(
    path.join(root, 'record-loads.cjs'),
    `const fs = require('node:fs'); const M = require('node:module'); const load = M._load;
M._load = function (request) { if (!request.startsWith('.') && !request.startsWith('/') && !request.startsWith('node:')) fs.appendFileSync(${JSON.stringify(loadLog)}, request + '\\n'); return load.apply(this, arguments); };\n`,
  );
});

/** A private EPISTEME_HOME, and no NODE_OPTIONS that could bring a loader in. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, EPISTEME_HOME: path.join(root, 'home') };
  delete env.NODE_OPTIONS;
  return env;
}

function run(args: string[]): { code: number; stdout: string; stderr: string; loaded: Set<string> } {
  fs.rmSync(loadLog, { force: true });
  const result = spawnSync(process.execPath, ['-r', path.join(root, 'record-loads.cjs'), cli, ...args], { cwd: root, encoding: 'utf8', env: cliEnv() });
  const loaded = new Set(fs.existsSync(loadLog) ? fs.readFileSync(loadLog, 'utf8').split('\n').filter(Boolean) : []);
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr, loaded };
}

function runJson(args: string[]) {
  const result = run([...args, '--json']);
  assert.equal(result.code, 0, `episteme ${args.join(' ')}: ${result.stderr}`);
  return { value: JSON.parse(result.stdout), loaded: result.loaded };
}

const heavy = (loaded: Set<string>) => [...loaded].filter((name) => name.startsWith('@tensorflow/') || name === 'sharp');

test('the bundle prints --help without tsx, TF.js or sharp', () => {
  const help = run(['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const command of ['init', 'import', 'label', 'train', 'rank', 'serve', 'bench']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
  assert.deepEqual(heavy(help.loaded), []);
  assert.ok(!help.loaded.has('tsx'));
});

test('the bundle runs init, import, label, status, then train and rerank in worker threads', async () => {
  const project = path.join(root, 'project');
  const images = await writeTwoClassPngs(path.join(root, 'images'), 6);
  runJson(['init', project, '--classes', 'bars,rings', '--image-size', '28']);
  assert.equal(runJson(['import', project, path.join(root, 'images')]).value.added, 12);
  for (const image of images) {
    const label = runJson(['label', project, image.file, image.label]);
    assert.deepEqual([label.value.kind, label.value.classIdx], ['class', image.label === 'bars' ? 0 : 1]);
    assert.deepEqual(heavy(label.loaded), [], 'label loads neither TF.js nor sharp');
  }
  const status = runJson(['status', project]).value;
  assert.deepEqual(status.perClass.map((c: { count: number }) => c.count), [6, 6]);

  const version = runJson(['train', project, '--epochs', '1']);
  assert.equal(version.value.nLabels, 12);
  assert.ok(['wasm', 'cpu', 'tensorflow'].includes(version.value.backend));
  assert.ok(version.loaded.has('@tensorflow/tfjs'), 'TF.js is loaded when training');
  const rerank = runJson(['rerank', project]);
  assert.equal(rerank.value.modelVersion.hyper.rerankOf, version.value.id);
  for (const loaded of [version.loaded, rerank.loaded]) assert.ok(!loaded.has('tsx'));
});

test('serve without a built renderer says so in the terminal and answers 503 on /', async () => {
  const child = spawn(process.execPath, [cli, 'serve'], { cwd: root, env: cliEnv() });
  try {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const match = /running at (\S+)/.exec(stdout);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
    });
    let response = await fetch(url, { redirect: 'manual' });
    // The printed address carries a token that the server swaps for a cookie.
    if (response.status === 303) {
      const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0];
      response = await fetch(new URL(response.headers.get('location') ?? '/', url), { headers: { cookie } });
    }
    assert.equal(response.status, 503);
    assert.match(await response.text(), /npm run build/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(stderr, /not built.*npm run build/);
  } finally {
    child.kill();
  }
});
