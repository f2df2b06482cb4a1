#!/usr/bin/env node
/**
 * Bundles the Electron side into dist/electron/:
 *   main.cjs      src-main/electron/main.ts, plus everything of src-main it imports (platform node, cjs)
 *   <name>.cjs    every worker thread entry, i.e. each file src-main names as
 *                 `new URL('./<name>.ts', import.meta.url)` (src-main/jobs/trainWorker.ts, …), bundled
 *                 like main.cjs; the URL in the bundle is rewritten to './<name>.cjs'
 *   preload.cjs   src-main/electron/preload.ts (sandboxed: it may only require 'electron'); the
 *                 contract reaches it as its method and event name lists only (no zod)
 *   migrations/   copy of migrations/ (src-main/db/migrations.ts looks beside the bundle)
 *   native/       the native kernels' addon, when built (src-main/bdl/native/index.ts looks beside
 *                 the bundle; asarUnpack in electron-builder.yml)
 *
 * Kept out of the bundles and loaded from node_modules at run time (electron-builder packs them,
 * asarUnpack in electron-builder.yml):
 *   - native addons: better-sqlite3, sharp (+ @img/*), @tensorflow/tfjs-node;
 *   - modules that load their .wasm from their own __dirname: @tensorflow/tfjs-backend-wasm
 *     (tfjs-backend-wasm*.wasm) and @cornerstonejs/codec-charls (charlswasm*.wasm);
 *   - hence the whole @tensorflow/* family: a bundled copy of tfjs-core beside an external
 *     tfjs-backend-wasm would be a second engine, and the backend would register into the wrong one.
 *
 * src-main is ESM and uses import.meta.url (migrations folder, worker URLs); in the cjs bundles it is
 * defined as the bundle file's own URL (banner shim), so `new URL('./x.cjs', import.meta.url)` inside
 * main.cjs points beside main.cjs. Any other use of import.meta fails the build rather than becoming {}.
 *
 * Usage: node scripts/build-electron.mjs   or   import { buildElectron } from './build-electron.mjs'
 */
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const MAIN_EXTERNALS = [
  'electron',
  'better-sqlite3',
  'sharp',
  '@img/*',
  '@tensorflow/*',
  '@cornerstonejs/codec-charls',
];
export const PRELOAD_EXTERNALS = ['electron'];

const COMMON = {
  absWorkingDir: root,
  bundle: true,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
};

const IMPORT_META_URL = '__episteme_import_meta_url';
const NODE_SHIM = `var ${IMPORT_META_URL} = require("node:url").pathToFileURL(__filename).href;`;

/** `new URL('./trainWorker.ts', import.meta.url)`: how src-main names a worker thread's entry file. */
const WORKER_URL = /new URL\(\s*(['"])(\.{1,2}\/[^'"\n]+?)\.ts\1\s*,\s*import\.meta\.url\s*\)/g;

function sourceFiles(dir) {
  const files = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts')) files.push(full);
  }
  return files;
}

/**
 * Worker entry points: every file that src-main names as `new URL('./x.ts', import.meta.url)`. Each is
 * bundled to <outDir>/x.cjs and the URL in the referring code is rewritten to './x.cjs', so at run time
 * it resolves beside main.cjs. Missing files are reported and skipped (the code naming them fails too).
 * @returns {{ entries: Record<string, string>, missing: string[] }}
 */
export function workerEntries(srcDir = path.join(root, 'src-main')) {
  const entries = {};
  const missing = [];
  for (const file of sourceFiles(srcDir)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(WORKER_URL)) {
      const target = path.resolve(path.dirname(file), `${match[2]}.ts`);
      const name = path.basename(match[2]);
      if (!fs.existsSync(target)) {
        missing.push(`${path.relative(root, target)} (named in ${path.relative(root, file)})`);
        continue;
      }
      if (entries[name] && entries[name] !== target) throw new Error(`two worker entries would both be ${name}.cjs: ${entries[name]} and ${target}`);
      entries[name] = target;
    }
  }
  return { entries, missing };
}

/** esbuild plugin: rewrites `new URL('./x.ts', import.meta.url)` to './x.cjs' in src-main (see workerEntries). */
function rewriteWorkerUrls() {
  const srcDir = path.join(root, 'src-main') + path.sep;
  return {
    name: 'rewrite-worker-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!args.path.startsWith(srcDir)) return undefined;
        const text = await fs.promises.readFile(args.path, 'utf8');
        const contents = text.replace(WORKER_URL, (_all, quote, rel) => `new URL(${quote}./${path.basename(rel)}.cjs${quote}, import.meta.url)`);
        return contents === text ? undefined : { contents, loader: 'ts' };
      });
    },
  };
}

const CONTRACT = path.join(root, 'src-main/service/contract.ts');

/** methodNames and eventNames as the contract computes them (the contract is bundled and evaluated). */
export async function contractNames() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [CONTRACT],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
  });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', result.outputFiles[0].text)(module, module.exports, createRequire(CONTRACT));
  const { methodNames, eventNames } = module.exports;
  if (!Array.isArray(methodNames) || !Array.isArray(eventNames)) throw new Error('contract.ts must export methodNames and eventNames');
  return { methodNames: [...methodNames], eventNames: [...eventNames] };
}

/**
 * esbuild plugin for the preload: the contract module becomes just its name lists, so the preload
 * keeps the contract's methods without carrying zod and the schemas (validation happens in main).
 */
function contractNamesOnly(names) {
  return {
    name: 'contract-names-only',
    setup(b) {
      b.onResolve({ filter: /(^|\/)contract\.ts$/ }, (args) =>
        path.resolve(args.resolveDir, args.path) === CONTRACT ? { path: CONTRACT, namespace: 'contract-names' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'contract-names' }, () => ({
        contents: `export const methodNames = ${JSON.stringify(names.methodNames)};\nexport const eventNames = ${JSON.stringify(names.eventNames)};\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Bundles src-main entry points for Node (cjs, @tensorflow/* and the native addons external, worker URLs
 * rewritten) into outDir, and copies beside them what the bundled code looks for at run time: migrations/
 * and the native kernels' addon when built. Shared by the Electron main bundle and the CLI bundle.
 * @param {{ outDir: string, entryPoints: Record<string, string>, external?: string[], logLevel?: import('esbuild').LogLevel }} options
 * @returns {Promise<{ externals: string[] }>} the bare module names the bundles require at run time
 */
export async function buildNodeBundles({ outDir, entryPoints, external = MAIN_EXTERNALS, logLevel = 'warning' }) {
  const result = await build({
    ...COMMON,
    entryPoints,
    outdir: outDir,
    logLevel,
    platform: 'node',
    target: 'node22',
    external,
    define: {
      'import.meta.url': IMPORT_META_URL,
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
    banner: { js: NODE_SHIM },
    logOverride: { 'empty-import-meta': 'error' },
    plugins: [rewriteWorkerUrls()],
  });
  fs.cpSync(path.join(root, 'migrations'), path.join(outDir, 'migrations'), { recursive: true });
  copyNativeAddon(outDir);
  const externals = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.external && !imported.path.startsWith('node:') && !builtinModules.includes(imported.path)) externals.add(imported.path);
    }
  }
  return { externals: [...externals].sort() };
}

export const NATIVE_ADDON = path.join(root, 'src-main/bdl/native/build/Release/episteme_kernels.node');

/** Copies the native kernels' addon, when built, to <outDir>/native/ (src-main/bdl/native/index.ts looks there beside a bundle). */
export function copyNativeAddon(outDir) {
  if (!fs.existsSync(NATIVE_ADDON)) return false;
  fs.mkdirSync(path.join(outDir, 'native'), { recursive: true });
  fs.copyFileSync(NATIVE_ADDON, path.join(outDir, 'native', 'episteme_kernels.node'));
  return true;
}

/**
 * @param {{ outDir?: string, logLevel?: import('esbuild').LogLevel }} [options]  outDir: default dist/electron
 * @returns {Promise<{ outDir: string, main: string, preload: string, workers: string[], missingWorkers: string[], externals: string[] }>}
 *   externals: the bare module names the main-side bundles require at run time.
 */
export async function buildElectron(options = {}) {
  const outDir = path.resolve(options.outDir ?? path.join(root, 'dist/electron'));
  const logLevel = options.logLevel ?? 'warning';
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  const { entries: workers, missing } = workerEntries();
  const names = await contractNames();
  for (const file of missing) console.warn(`[build-electron] worker entry not found, not bundled: ${file}`);

  const [{ externals }] = await Promise.all([
    buildNodeBundles({ outDir, entryPoints: { main: path.join(root, 'src-main/electron/main.ts'), ...workers }, logLevel }),
    build({
      ...COMMON,
      outdir: outDir,
      logLevel,
      entryPoints: { preload: path.join(root, 'src-main/electron/preload.ts') },
      // A sandboxed preload has no Node: platform browser makes any node: import a build error.
      platform: 'browser',
      target: 'chrome130',
      external: PRELOAD_EXTERNALS,
      logOverride: { 'empty-import-meta': 'error' },
      plugins: [contractNamesOnly(names)],
    }),
  ]);

  return {
    outDir,
    main: path.join(outDir, 'main.cjs'),
    preload: path.join(outDir, 'preload.cjs'),
    workers: Object.keys(workers).map((name) => path.join(outDir, `${name}.cjs`)),
    missingWorkers: missing,
    externals,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildElectron().then(
    (result) => {
      const rel = (file) => path.relative(root, file);
      console.log(`built ${[result.main, result.preload, ...result.workers].map(rel).join(', ')} in ${Date.now() - started} ms`);
    },
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
