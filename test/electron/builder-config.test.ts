/**
 * electron-builder.yml: valid for the installed electron-builder (its own schema validator), the
 * targets, what is packed and unpacked from the asar, and the fuses.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

type Config = Record<string, any>;
let config: Config;

before(() => {
  const yaml = require('js-yaml') as { load(text: string): unknown };
  config = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Config;
});

test('electron-builder accepts it (app-builder-lib validateConfiguration against its scheme.json)', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean; add(): void }): Promise<void>;
  };
  await validateConfiguration(structuredClone(config), { isEnabled: false, add() {} });
  // The validator is not a rubber stamp: a misspelt fuse fails it.
  await assert.rejects(
    validateConfiguration({ ...structuredClone(config), electronFuses: { runAsNodee: false } }, { isEnabled: false, add() {} }),
    /electronFuses/,
  );
});

test('identity and targets: Linux AppImage + deb, Windows NSIS, macOS dmg', () => {
  assert.deepEqual(
    { productName: config.productName, appId: typeof config.appId, linux: config.linux?.target, win: config.win?.target, mac: config.mac?.target },
    { productName: 'Episteme', appId: 'string', linux: ['AppImage', 'deb'], win: ['nsis'], mac: ['dmg'] },
  );
});

test('packs the bundles, the renderer and the migrations; entry point is the bundle; output is not dist/', () => {
  assert.deepEqual(
    {
      files: config.files.filter((f: string) => !f.startsWith('!')),
      main: config.extraMetadata?.main,
      output: config.directories?.output,
    },
    { files: ['dist/electron/**', 'dist/renderer/**', 'migrations/**', 'package.json'], main: 'dist/electron/main.cjs', output: 'release' },
  );
});

test('asar on, with the native modules and the wasm files unpacked; native modules rebuilt for Electron', () => {
  const { minimatch } = require('minimatch') as { minimatch(file: string, pattern: string, options?: object): boolean };
  const unpacked = (file: string) => (config.asarUnpack as string[]).some((pattern) => minimatch(file, pattern, { dot: true }));
  const mustUnpack = [
    'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    'node_modules/sharp/lib/sharp.js',
    'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node',
    'node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.8.17.3',
    'node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node',
  ];
  // Every .wasm actually installed for tfjs-backend-wasm and CharLS.
  const wasmDirs = ['node_modules/@tensorflow/tfjs-backend-wasm/dist', 'node_modules/@cornerstonejs/codec-charls/dist'];
  const wasm = wasmDirs.flatMap((dir) =>
    fs.existsSync(path.join(root, dir)) ? fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.wasm')).map((f) => `${dir}/${f}`) : [],
  );
  assert.ok(wasm.length >= 4, `expected the installed .wasm files, found ${wasm.join(', ')}`);
  assert.deepEqual(
    { asar: config.asar, npmRebuild: config.npmRebuild, notUnpacked: [...mustUnpack, ...wasm].filter((f) => !unpacked(f)), jsStaysPacked: unpacked('node_modules/zod/index.js') },
    { asar: true, npmRebuild: true, notUnpacked: [], jsStaysPacked: false },
  );
});

test('fuses exactly as decided', () => {
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    enableCookieEncryption: true,
    loadBrowserProcessSpecificV8Snapshot: false,
    grantFileProtocolExtraPrivileges: false,
  });
});
