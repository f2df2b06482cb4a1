// npm test: type-check, build the bundles the browser and Electron tests load, then run every
// test/**/*.test.ts with Node's own runner (TypeScript through tsx). Ends with the pass/fail counts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
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
run(process.execPath, ['--import', path.join(root, 'node_modules/tsx/dist/loader.mjs'), '--test', '--test-reporter=spec', ...files]);
