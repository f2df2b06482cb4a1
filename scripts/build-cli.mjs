#!/usr/bin/env node
/**
 * Bundles the command line into dist/cli/, so that bin/episteme starts without compiling TypeScript:
 *   episteme.cjs  src-main/cli/run.ts and everything of src-main it imports
 *   <name>.cjs    every worker thread entry (see workerEntries in build-electron.mjs)
 *   migrations/, native/  as beside the Electron bundle
 * Same externals as the Electron main bundle (native addons, @tensorflow/*, codec-charls load from
 * node_modules). dist/cli sits as deep under the root as src-main/cli, so the paths src-main derives
 * from import.meta.url ('../../dist/renderer', '../../../shared', '../../scripts/…') still hold.
 *
 * Built into a temporary folder that then replaces dist/cli, so a CLI running meanwhile (tests, a
 * second build) sees the old or the new bundle, not half of one; bin/episteme runs from source in the
 * instant between the two renames.
 *
 * Run by `npm install` (postinstall) and `npm run build`. Usage: node scripts/build-cli.mjs
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNodeBundles, workerEntries } from './build-electron.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ outDir?: string, logLevel?: import('esbuild').LogLevel }} [options]  outDir: default dist/cli
 * @returns {Promise<{ outDir: string, cli: string, workers: string[] }>}
 */
export async function buildCli(options = {}) {
  const outDir = path.resolve(options.outDir ?? path.join(root, 'dist/cli'));
  const staging = `${outDir}.building-${process.pid}`;
  const old = `${outDir}.old-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const { entries: workers, missing } = workerEntries();
  for (const file of missing) console.warn(`[build-cli] worker entry not found, not bundled: ${file}`);
  try {
    await buildNodeBundles({ outDir: staging, entryPoints: { episteme: path.join(root, 'src-main/cli/run.ts'), ...workers }, logLevel: options.logLevel });
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
  fs.renameSync(staging, outDir);
  fs.rmSync(old, { recursive: true, force: true });
  return {
    outDir,
    cli: path.join(outDir, 'episteme.cjs'),
    workers: Object.keys(workers).map((name) => path.join(outDir, `${name}.cjs`)),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildCli().then(
    (result) => console.log(`CLI built into ${path.relative(root, result.outDir)} (${result.workers.length} workers) in ${Date.now() - started} ms`),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
