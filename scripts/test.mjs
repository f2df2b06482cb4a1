// npm test: type-check, build the bundles the browser and Electron tests load, then run every
// test/**/*.test.ts with Node's own runner (TypeScript through tsx). Ends with the pass/fail counts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

function findTests(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return findTests(full);
      return entry.name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

const filters = process.argv.slice(2);
if (filters.length === 0) {
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json']);
}
run(process.execPath, [path.join(root, 'scripts/build.mjs')]);
const files = findTests(path.join(root, 'test')).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
// Spec output for people; a TAP copy from which the closing "N passed, N failed" line is made.
const tapFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-tap-')), 'results.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import', path.join(root, 'node_modules/tsx/dist/loader.mjs'),
    '--test', `--test-concurrency=${Math.max(1, os.availableParallelism())}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
const tap = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '';
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
console.log(`\n${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped`);
process.exit(result.status ?? 1);
