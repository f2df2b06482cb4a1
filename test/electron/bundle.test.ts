/**
 * Builds the real bundles with buildElectron() and runs them in Node with the 'electron' module
 * replaced at that one seam (Module._load): a recording app / BrowserWindow / ipcMain / protocol /
 * session / contextBridge / ipcRenderer. Everything else in main.cjs is real, including createApp
 * (src-main/service/app.ts) on a temporary userData folder, better-sqlite3 and the migrations copy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BRIDGE_KEY, EVENT_CHANNEL, IPC_CHANNEL, type EpistemeBridge } from '../../src-main/electron/bridge.ts';
import { CONTENT_SECURITY_POLICY } from '../../src-main/electron/protocol.ts';
import { methodNames } from '../../src-main/service/contract.ts';
import { Emitter, FakeSession, FakeWebContents, fakeEvent, fakeFrame } from './fakes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

interface BuildResult {
  outDir: string;
  main: string;
  preload: string;
  workers: string[];
  missingWorkers: string[];
  externals: string[];
}
type BuildElectron = (options?: { outDir?: string; logLevel?: string }) => Promise<BuildResult>;

// ---- the fake 'electron' -------------------------------------------------------------------------

type Listener = (...args: any[]) => unknown;

function fakeElectron(options: { singleInstance: boolean; appData: string }) {
  const rec = {
    privileged: [] as unknown[],
    protocolHandlers: new Map<string, Listener>(),
    ipcHandlers: new Map<string, Listener>(),
    removedIpc: [] as string[],
    windows: [] as FakeWindow[],
    sandbox: false,
    quits: 0,
    exits: [] as number[],
    errorBoxes: [] as string[],
    paths: new Map<string, string>([['appData', options.appData]]),
    menus: 0,
    exposed: new Map<string, unknown>(),
    invoked: [] as unknown[][],
    invokeFails: false,
  };
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  class App extends Emitter {
    isPackaged = false;
    enableSandbox() {
      rec.sandbox = true;
    }
    requestSingleInstanceLock() {
      return options.singleInstance;
    }
    whenReady() {
      return ready;
    }
    getPath(name: string) {
      const value = rec.paths.get(name);
      if (!value) throw new Error(`fake app.getPath(${name}) not set`);
      return value;
    }
    setPath(name: string, value: string) {
      rec.paths.set(name, value);
    }
    getVersion() {
      return '9.9.9-test';
    }
    quit() {
      rec.quits++;
    }
    exit(code: number) {
      rec.exits.push(code);
    }
  }
  const app = new App();
  const session = new FakeSession();

  class FakeWindow extends Emitter {
    readonly webContents = new FakeWebContents();
    readonly loaded: string[] = [];
    constructor(readonly options: any) {
      super();
      rec.windows.push(this);
      app.emit('web-contents-created', fakeEvent(), this.webContents);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      this.webContents.url = url;
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    show() {}
    focus() {}
    restore() {}
  }

  const rendererListeners = new Emitter();
  const electron = {
    app,
    BrowserWindow: FakeWindow,
    session: { defaultSession: session },
    dialog: { showErrorBox: (title: string, message: string) => rec.errorBoxes.push(`${title}: ${message}`) },
    Menu: { buildFromTemplate: (template: unknown) => template, setApplicationMenu: () => rec.menus++ },
    ipcMain: {
      handle: (channel: string, handler: Listener) => rec.ipcHandlers.set(channel, handler),
      removeHandler: (channel: string) => rec.removedIpc.push(channel),
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => rec.privileged.push(...schemes),
      handle: (scheme: string, handler: Listener) => rec.protocolHandlers.set(scheme, handler),
    },
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => rec.exposed.set(key, api) },
    ipcRenderer: {
      invoke: (...args: unknown[]) => {
        rec.invoked.push(args);
        return rec.invokeFails ? Promise.reject(new Error('No handler registered')) : Promise.resolve({ ok: true, value: 'answered' });
      },
      on: (channel: string, listener: Listener) => rendererListeners.on(channel, listener),
      removeListener: (channel: string, listener: Listener) => rendererListeners.removeListener(channel, listener),
    },
  };
  return { electron, rec, app, session, markReady, rendererListeners };
}

// ---- the seam ------------------------------------------------------------------------------------

const moduleInternals = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const originalLoad = moduleInternals._load;
let currentElectron: unknown = null;

function load(file: string, electron: unknown): void {
  currentElectron = electron;
  delete require.cache[file];
  require(file);
}

async function waitFor(what: string, predicate: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let work: string;
let built: BuildResult;

before(async () => {
  // Inside the repository (test-output/ is git-ignored), so that the bundle's externals resolve from
  // node_modules the way they do from dist/electron.
  fs.mkdirSync(path.join(root, 'test-output'), { recursive: true });
  work = fs.mkdtempSync(path.join(root, 'test-output', 'electron-bundle-'));
  const outDir = path.join(work, 'dist', 'electron');
  // main.cjs serves ../renderer: a stand-in renderer beside the bundle.
  fs.mkdirSync(path.join(work, 'dist', 'renderer'), { recursive: true });
  fs.writeFileSync(path.join(work, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Episteme</title>');
  const { buildElectron } = (await import(pathToFileURL(path.join(root, 'scripts/build-electron.mjs')).href)) as { buildElectron: BuildElectron };
  built = await buildElectron({ outDir, logLevel: 'error' });
  moduleInternals._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === 'electron') return currentElectron;
    return originalLoad.call(this, request, parent, isMain);
  };
});

after(() => {
  moduleInternals._load = originalLoad;
  fs.rmSync(work, { recursive: true, force: true });
});

test('buildElectron writes main.cjs, preload.cjs and migrations/ beside them', (t) => {
  for (const missing of built.missingWorkers) t.diagnostic(`worker entry not built (file missing): ${missing}`);
  const migrations = fs.readdirSync(path.join(root, 'migrations')).sort();
  assert.deepEqual(
    {
      main: fs.existsSync(built.main),
      preload: fs.existsSync(built.preload),
      workers: built.workers.filter((w) => !fs.existsSync(w)),
      migrations: fs.readdirSync(path.join(built.outDir, 'migrations')).sort(),
      mainStartsWithShim: fs.readFileSync(built.main, 'utf8').startsWith('var __episteme_import_meta_url = require("node:url").pathToFileURL(__filename).href;'),
    },
    { main: true, preload: true, workers: [], migrations, mainStartsWithShim: true },
  );
});

test('the preload requires nothing but electron, and carries no zod', () => {
  const text = fs.readFileSync(built.preload, 'utf8');
  const required = [...text.matchAll(/require\((['"])([^'"]+)\1\)/g)].map((m) => m[2]);
  assert.deepEqual({ required: [...new Set(required)], zod: /zod/i.test(text) }, { required: ['electron'], zod: false });
});

test('every module main.cjs leaves to node_modules is a production dependency (electron-builder packs it)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const production = new Set<string>();
  const visit = (name: string) => {
    if (production.has(name)) return;
    production.add(name);
    const file = path.join(root, 'node_modules', name, 'package.json');
    if (!fs.existsSync(file)) return;
    const dep = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const child of Object.keys({ ...dep.dependencies, ...dep.optionalDependencies })) visit(child);
  };
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(name);
  const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  const unpacked = built.externals.filter((e) => e !== 'electron' && !production.has(packageName(e)));
  assert.deepEqual(unpacked, []);
});

test('second instance: main.cjs quits at once and registers nothing', () => {
  const fake = fakeElectron({ singleInstance: false, appData: path.join(work, 'appData-second') });
  load(built.main, fake.electron);
  assert.deepEqual(
    { quits: fake.rec.quits, ipc: fake.rec.ipcHandlers.size, protocols: fake.rec.protocolHandlers.size, windows: fake.rec.windows.length },
    { quits: 1, ipc: 0, protocols: 0, windows: 0 },
  );
});

test('main.cjs: schemes before ready, then protocol + IPC handler + hardened window on episteme://app; IPC checks the sender', async (t) => {
  const appData = path.join(work, 'appData');
  const fake = fakeElectron({ singleInstance: true, appData });
  load(built.main, fake.electron);
  const beforeReady = { privileged: [...fake.rec.privileged], sandbox: fake.rec.sandbox, ipc: fake.rec.ipcHandlers.size };
  fake.markReady();
  await waitFor('the window to load', () => fake.rec.windows[0]?.loaded.length === 1);
  const window = fake.rec.windows[0];

  assert.deepEqual(beforeReady, {
    privileged: [{ scheme: 'episteme', privileges: { standard: true, secure: true, supportFetchAPI: true } }],
    sandbox: true,
    ipc: 0,
  });
  assert.deepEqual(
    {
      userData: fake.rec.paths.get('userData'),
      protocols: [...fake.rec.protocolHandlers.keys()],
      ipcChannels: [...fake.rec.ipcHandlers.keys()],
      loaded: window.loaded,
      preload: window.options.webPreferences.preload,
      sandboxed: window.options.webPreferences.sandbox,
      windowOpen: window.webContents.windowOpenHandler?.({ url: 'https://example.com' }),
      permissionDenied: fake.session.permissionCheckHandler?.(null, 'media', 'episteme://app', {}),
      errors: fake.rec.errorBoxes,
    },
    {
      userData: path.join(appData, 'Episteme'),
      protocols: ['episteme'],
      ipcChannels: [IPC_CHANNEL],
      loaded: ['episteme://app/index.html'],
      preload: path.join(built.outDir, 'preload.cjs'),
      sandboxed: true,
      windowOpen: { action: 'deny' },
      permissionDenied: false,
      errors: [],
    },
  );

  // The protocol handler serves the renderer beside the bundle, with the CSP.
  const page = (await fake.rec.protocolHandlers.get('episteme')!(new Request('episteme://app/index.html'))) as Response;
  assert.deepEqual([page.status, page.headers.get('content-security-policy')], [200, CONTENT_SECURITY_POLICY]);

  // IPC: a valid app.info call from our window is answered by the real service …
  const handle = fake.rec.ipcHandlers.get(IPC_CHANNEL)!;
  const ours = { sender: window.webContents, senderFrame: fakeFrame('episteme://app/index.html') };
  const info = (await handle(ours, 'app.info', {})) as { ok: boolean; value: Record<string, unknown> };
  assert.equal(info.ok, true);
  assert.deepEqual({ mode: info.value.mode, version: info.value.version }, { mode: 'electron', version: '9.9.9-test' });

  // … a foreign sender is refused, and so is a malformed payload.
  t.mock.method(console, 'warn', () => {});
  const foreignOrigin = (await handle({ sender: window.webContents, senderFrame: fakeFrame('https://evil.example/') }, 'app.info', {})) as { ok: boolean };
  const foreignContents = (await handle({ sender: new FakeWebContents(), senderFrame: fakeFrame('episteme://app/index.html') }, 'app.info', {})) as { ok: boolean };
  const malformed = (await handle(ours, 'app.info', { unexpected: true })) as { ok: boolean; error: { code: string } };
  const unknown = (await handle(ours, 'shell.openExternal', { url: 'https://evil.example' })) as { ok: boolean; error: { code: string } };
  assert.deepEqual(
    { foreignOrigin: foreignOrigin.ok, foreignContents: foreignContents.ok, malformed: [malformed.ok, malformed.error.code], unknown: [unknown.ok, unknown.error.code] },
    { foreignOrigin: false, foreignContents: false, malformed: [false, 'bad-request'], unknown: [false, 'bad-request'] },
  );

  // Quitting waits for the app to close, removes the IPC handler, then quits.
  const quit = fakeEvent();
  fake.app.emit('will-quit', quit);
  await waitFor('app.quit after close', () => fake.rec.quits === 1);
  fake.app.emit('will-quit', fakeEvent());
  assert.deepEqual({ prevented: quit.prevented, removed: fake.rec.removedIpc, quits: fake.rec.quits }, { prevented: true, removed: [IPC_CHANNEL], quits: 1 });
});

test('the preload exposes exactly invoke/onEvent, forwards exactly the contract methods, and hides the IPC event', async () => {
  const fake = fakeElectron({ singleInstance: true, appData: path.join(work, 'appData-preload') });
  load(built.preload, fake.electron);
  assert.deepEqual([...fake.rec.exposed.keys()], [BRIDGE_KEY]);
  const bridge = fake.rec.exposed.get(BRIDGE_KEY) as EpistemeBridge;
  assert.deepEqual(Object.keys(bridge).sort(), ['invoke', 'onEvent']);

  const invoke = bridge.invoke as (method: unknown, payload: unknown) => Promise<unknown>;
  for (const method of methodNames) assert.deepEqual(await invoke(method, { probe: method }), { ok: true, value: 'answered' });
  const refused = [];
  for (const method of ['app.quit', 'shell.openExternal', '__proto__', 'constructor', 'toString', '', 42, null]) refused.push(await invoke(method, {}));
  assert.deepEqual(
    fake.rec.invoked,
    methodNames.map((method) => [IPC_CHANNEL, method, { probe: method }]),
    'exactly the contract methods reach ipcRenderer.invoke, on the one channel',
  );
  assert.ok(refused.every((r) => (r as { ok: boolean; error: { code: string } }).error.code === 'bad-request'));

  fake.rec.invokeFails = true;
  assert.deepEqual(await invoke('app.info', {}), { ok: false, error: { code: 'internal', message: 'No handler registered' } });

  const received: unknown[][] = [];
  const unsubscribe = bridge.onEvent((...args: unknown[]) => received.push(args));
  fake.rendererListeners.emit(EVENT_CHANNEL, { sender: 'the IpcRendererEvent' }, 'job.progress', { jobId: 'j1' });
  fake.rendererListeners.emit(EVENT_CHANNEL, { sender: 'the IpcRendererEvent' }, 'not.an.event', { jobId: 'j2' });
  unsubscribe();
  fake.rendererListeners.emit(EVENT_CHANNEL, { sender: 'the IpcRendererEvent' }, 'job.progress', { jobId: 'j3' });
  assert.deepEqual({ received, listeners: fake.rendererListeners.count(EVENT_CHANNEL) }, { received: [['job.progress', { jobId: 'j1' }]], listeners: 0 });
});
