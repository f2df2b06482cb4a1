#!/usr/bin/env node
/**
 * Builds the optional native kernels (src-main/bdl/native, Node-API C++) with node-gyp; run by
 * `npm install` (postinstall, before the bundles are built) and by `npm run build:native`.
 *
 * Never fails the install: without a C++ toolchain (or with EPISTEME_NATIVE=0) Episteme trains on
 * the wasm backend's XNNPACK kernels alone, about 6× slower on the standard round.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'src-main', 'bdl', 'native');

if (process.env.EPISTEME_NATIVE?.trim() === '0') {
  console.log('episteme: EPISTEME_NATIVE=0, native kernels not built');
  process.exit(0);
}

// npm hands lifecycle scripts its own node-gyp; outside npm, use the one beside npm.
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((p) => p && fs.existsSync(p));

const result = candidates.length
  ? spawnSync(process.execPath, [candidates[0], 'rebuild', '--release', `--directory=${dir}`], { stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild', '--release', `--directory=${dir}`], { stdio: 'inherit', shell: process.platform === 'win32' });

if (result.status === 0) {
  console.log(`episteme: native kernels built (${path.relative(root, path.join(dir, 'build', 'Release', 'episteme_kernels.node'))})`);
  // The CLI bundle loads its own copy (dist/cli/native/); refresh it rather than rebuild the bundle.
  const cliDir = path.join(root, 'dist', 'cli');
  if (fs.existsSync(cliDir)) (await import('./build-electron.mjs')).copyNativeAddon(cliDir);
} else {
  console.warn(
    'episteme: the native kernels could not be built (a C++ compiler and Node headers are needed);\n' +
      'training will run on the wasm kernels alone. Retry with `npm run build:native`.',
  );
}
