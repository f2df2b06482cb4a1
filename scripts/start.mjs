#!/usr/bin/env node
/**
 * `npm start [-- args]`: the desktop app if the Electron binary is installed, otherwise browser mode.
 *   - Electron: builds the renderer and the Electron bundles, then runs Electron on the app.
 *   - No binary (e.g. an offline install, where electron's postinstall could not download it): builds
 *     the renderer and runs `bin/episteme serve`, which prints the URL to open.
 * Extra arguments go to Electron / `episteme serve`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/**
 * The Electron executable, or null. In Node, require('electron') returns its path, but when the binary
 * is missing it first tries to download it (and throws "Electron failed to install correctly"), so it
 * is only required once its path.txt and binary are known to be there.
 */
export function findElectronBinary() {
  const require = createRequire(import.meta.url);
  let packageDir;
  try {
    packageDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
  if (!process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const pathFile = path.join(packageDir, 'path.txt');
    if (!fs.existsSync(pathFile)) return null;
    const binary = path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
    if (!fs.existsSync(binary)) return null;
  }
  try {
    const binary = require('electron');
    return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
  } catch (error) {
    if (error instanceof Error && /failed to install correctly/i.test(error.message)) return null;
    throw error;
  }
}

/** Runs a command with inherited stdio; resolves with its exit code (signals re-raised on us). */
function run(command, commandArgs, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', env });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : (code ?? 1));
    });
  });
}

async function main() {
  const electron = findElectronBinary();
  const { buildRenderer } = await import('./build-renderer.mjs');
  await buildRenderer();

  if (electron) {
    const { buildElectron } = await import('./build-electron.mjs');
    await buildElectron();
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE; // would make Electron behave as plain Node
    // `electron .` so the app gets its name and version from package.json; that needs "main" to be the bundle.
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const entry = pkg.main === 'dist/electron/main.cjs' ? '.' : 'dist/electron/main.cjs';
    return run(electron, [entry, ...args], env);
  }

  console.log('The Electron binary is not installed, so Episteme runs in browser mode (open the address below: it carries the access token of this launch).');
  if (process.platform !== 'win32') return run(path.join(root, 'bin', 'episteme'), ['serve', ...args]);
  // bin/episteme is a POSIX shell script; on Windows run what it runs.
  return run(process.execPath, ['--import', 'tsx', path.join(root, 'src-main', 'cli', 'run.ts'), 'serve', ...args]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
