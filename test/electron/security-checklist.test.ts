/**
 * Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security, 20 items),
 * one test per item, against windowOptions / hardenSession / hardenWebContents / the IPC sender check
 * and, where an item lives elsewhere, the file that carries it. No Electron here: fakes record handlers.
 *
 * Not applicable, and why:
 *   16. Use a current version of Electron — a release-process item (the version is pinned in
 *       package.json and moves with upgrades); nothing in the code can assert "current" offline.
 * Asserted in another file:
 *   20. Do not expose Electron APIs to untrusted web content — needs the built preload:
 *       bundle.test.ts ("the preload exposes exactly invoke/onEvent …").
 *   (7, 18 are also checked on real protocol responses in protocol.test.ts, 17 on the built
 *   main.cjs in bundle.test.ts, 19 in full in builder-config.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WebContents } from 'electron';
import { isTrustedSender } from '../../src-main/electron/ipc.ts';
import { CONTENT_SECURITY_POLICY, PRIVILEGED_SCHEMES, START_URL } from '../../src-main/electron/protocol.ts';
import { BLOCKED_REQUEST_URLS, hardenSession, hardenWebContents, windowOptions } from '../../src-main/electron/window.ts';
import { FakeSession, FakeWebContents, fakeFrame, prevented } from './fakes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PRELOAD = path.join(root, 'dist/electron/preload.cjs');
const prefs = windowOptions(PRELOAD).webPreferences ?? {};

function hardenedSession(): FakeSession {
  const session = new FakeSession();
  hardenSession(session as unknown as Parameters<typeof hardenSession>[0]);
  return session;
}

function hardenedContents(): FakeWebContents {
  const contents = new FakeWebContents();
  hardenWebContents(contents as unknown as Parameters<typeof hardenWebContents>[0]);
  return contents;
}

function electronSources(): Array<{ file: string; text: string }> {
  const dir = path.join(root, 'src-main/electron');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

function csp(): Map<string, string[]> {
  return new Map(
    CONTENT_SECURITY_POLICY.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name, sources] as [string, string[]];
    }),
  );
}

test('1. only load secure content: the app loads episteme:// (a secure scheme) and the session cancels every network request', () => {
  const session = hardenedSession();
  let cancelled: unknown;
  session.beforeRequest?.listener({ url: 'https://example.com/x.js' }, (response: unknown) => (cancelled = response));
  assert.deepEqual(
    {
      start: new URL(START_URL).protocol,
      secure: PRIVILEGED_SCHEMES[0].privileges?.secure,
      filter: session.beforeRequest?.filter.urls,
      cancelled,
    },
    { start: 'episteme:', secure: true, filter: BLOCKED_REQUEST_URLS, cancelled: { cancel: true } },
  );
  assert.ok(BLOCKED_REQUEST_URLS.includes('http://*/*') && BLOCKED_REQUEST_URLS.includes('https://*/*'));
});

test('2. no Node.js integration in the renderer, its workers or subframes', () => {
  assert.deepEqual(
    { nodeIntegration: prefs.nodeIntegration, nodeIntegrationInWorker: prefs.nodeIntegrationInWorker, nodeIntegrationInSubFrames: prefs.nodeIntegrationInSubFrames },
    { nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false },
  );
});

test('3. context isolation is on', () => {
  assert.equal(prefs.contextIsolation, true);
});

test('4. the renderer is sandboxed (and main.ts calls app.enableSandbox(), see bundle.test.ts)', () => {
  assert.equal(prefs.sandbox, true);
});

test('5. every permission request and check is denied, device access too', () => {
  const session = hardenedSession();
  const requests: boolean[] = [];
  for (const permission of ['media', 'notifications', 'openExternal', 'geolocation', 'clipboard-read', 'fileSystem', 'unknown']) {
    session.permissionRequestHandler?.({}, permission, (granted: boolean) => requests.push(granted), {});
  }
  const checks = ['media', 'hid', 'serial', 'usb', 'clipboard-read'].map((p) => session.permissionCheckHandler?.(null, p, 'episteme://app', {}));
  assert.deepEqual(
    { requests, checks, device: session.devicePermissionHandler?.({ deviceType: 'usb', origin: 'episteme://app' }) },
    { requests: Array(7).fill(false), checks: Array(5).fill(false), device: false },
  );
});

test('6. webSecurity stays on', () => {
  assert.equal(prefs.webSecurity, true);
});

test("7. a restrictive Content-Security-Policy: default-src 'none', scripts only from 'self', nothing inline or eval'd", () => {
  const directives = csp();
  assert.deepEqual(
    { default: directives.get('default-src'), script: directives.get('script-src'), object: directives.get('object-src'), base: directives.get('base-uri') },
    { default: ["'none'"], script: ["'self'"], object: ["'none'"], base: ["'none'"] },
  );
});

test('8. allowRunningInsecureContent is off', () => {
  assert.equal(prefs.allowRunningInsecureContent, false);
});

test('9. experimental features are off', () => {
  assert.equal(prefs.experimentalFeatures, false);
});

test('10. enableBlinkFeatures is not used', () => {
  assert.equal('enableBlinkFeatures' in prefs, false);
});

test('11. <webview> is disabled, so no webview can have allowpopups', () => {
  assert.equal(prefs.webviewTag, false);
});

test('12. attaching a <webview> is always prevented', () => {
  assert.equal(prevented(hardenedContents(), 'will-attach-webview'), true);
});

test('13. navigation and redirects are limited to episteme://app', () => {
  const contents = hardenedContents();
  const outcome = (event: string, url: string) => (prevented(contents, event, url) ? 'blocked' : 'allowed');
  assert.deepEqual(
    {
      navigateAway: outcome('will-navigate', 'https://evil.example/'),
      navigateFile: outcome('will-navigate', 'file:///etc/passwd'),
      navigateLookalike: outcome('will-navigate', 'episteme://app.evil.example/'),
      navigateInApp: outcome('will-navigate', 'episteme://app/index.html#/queue'),
      frameAway: outcome('will-frame-navigate', 'https://evil.example/'),
      frameInApp: outcome('will-frame-navigate', 'episteme://app/index.html'),
      redirectAway: outcome('will-redirect', 'http://127.0.0.1:8080/'),
      redirectInApp: outcome('will-redirect', 'episteme://app/index.html'),
      garbage: outcome('will-navigate', 'not a url'),
    },
    {
      navigateAway: 'blocked',
      navigateFile: 'blocked',
      navigateLookalike: 'blocked',
      navigateInApp: 'allowed',
      frameAway: 'blocked',
      frameInApp: 'allowed',
      redirectAway: 'blocked',
      redirectInApp: 'allowed',
      garbage: 'blocked',
    },
  );
});

test('14. window.open and target=_blank are denied', () => {
  const contents = hardenedContents();
  const answers = ['https://example.com/', 'episteme://app/index.html', 'about:blank'].map((url) => contents.windowOpenHandler?.({ url }));
  assert.deepEqual(answers, Array(3).fill({ action: 'deny' }));
});

test('15. shell.openExternal is not used by the Electron side (the openExternal permission is denied, item 5)', () => {
  const users = electronSources().filter(({ text }) => /\bopenExternal\s*\(|\bshell\b\s*[,}]|\bshell\./.test(text));
  assert.deepEqual(users, []);
});

// 16. not applicable: see the header comment.

test('17. IPC is answered only for the main frame of our window on episteme://app', () => {
  const ours = { id: 1 } as WebContents;
  const other = { id: 2 } as WebContents;
  const check = (sender: WebContents, frame: ReturnType<typeof fakeFrame> | null) =>
    isTrustedSender({ sender, senderFrame: frame } as unknown as Parameters<typeof isTrustedSender>[0], ours);
  assert.deepEqual(
    {
      ours: check(ours, fakeFrame('episteme://app/index.html')),
      otherContents: check(other, fakeFrame('episteme://app/index.html')),
      foreignOrigin: check(ours, fakeFrame('https://evil.example/')),
      fileUrl: check(ours, fakeFrame('file:///index.html')),
      subframe: check(ours, fakeFrame('episteme://app/index.html', {})),
      destroyedFrame: check(ours, null),
      noWindow: isTrustedSender({ sender: ours, senderFrame: fakeFrame('episteme://app/') } as unknown as Parameters<typeof isTrustedSender>[0], null),
    },
    { ours: true, otherContents: false, foreignOrigin: false, fileUrl: false, subframe: false, destroyedFrame: false, noWindow: false },
  );
});

test('18. no file://: the window loads episteme://app through protocol.handle, never loadFile', () => {
  const main = electronSources().find(({ file }) => file === 'main.ts')!.text;
  assert.deepEqual(
    { start: START_URL, loadFile: /\.loadFile\s*\(/.test(main), fileUrl: /['"`]file:\/\//.test(main), handles: /registerAppProtocol\(/.test(main) },
    { start: 'episteme://app/index.html', loadFile: false, fileUrl: false, handles: true },
  );
});

test('19. fuses: ELECTRON_RUN_AS_NODE, NODE_OPTIONS, --inspect and file:// privileges off; asar-only and integrity on', () => {
  const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
  const config = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as { electronFuses?: Record<string, boolean> };
  const fuses = config.electronFuses ?? {};
  assert.deepEqual(
    {
      runAsNode: fuses.runAsNode,
      enableNodeOptionsEnvironmentVariable: fuses.enableNodeOptionsEnvironmentVariable,
      enableNodeCliInspectArguments: fuses.enableNodeCliInspectArguments,
      grantFileProtocolExtraPrivileges: fuses.grantFileProtocolExtraPrivileges,
      onlyLoadAppFromAsar: fuses.onlyLoadAppFromAsar,
      enableEmbeddedAsarIntegrityValidation: fuses.enableEmbeddedAsarIntegrityValidation,
    },
    {
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      grantFileProtocolExtraPrivileges: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    },
  );
});

// 20. asserted on the built preload in bundle.test.ts.

test('beyond the checklist: no drag-and-drop navigation, no spellchecker (it downloads dictionaries), no DevTools unless asked, absolute preload', () => {
  const session = hardenedSession();
  assert.deepEqual(
    {
      navigateOnDragDrop: prefs.navigateOnDragDrop,
      spellcheck: prefs.spellcheck,
      sessionSpellChecker: session.spellChecker,
      devTools: prefs.devTools,
      devToolsInDevelopment: windowOptions(PRELOAD, { devTools: true }).webPreferences?.devTools,
      preload: prefs.preload,
      downloadsPrevented: prevented(session, 'will-download'),
    },
    {
      navigateOnDragDrop: false,
      spellcheck: false,
      sessionSpellChecker: false,
      devTools: false,
      devToolsInDevelopment: true,
      preload: PRELOAD,
      downloadsPrevented: true,
    },
  );
  assert.throws(() => windowOptions('dist/electron/preload.cjs'), /absolute/);
});

test('hardenWebContents is idempotent (main.ts applies it to the window and on web-contents-created)', () => {
  const contents = hardenedContents();
  hardenWebContents(contents as unknown as Parameters<typeof hardenWebContents>[0]);
  assert.equal(contents.count('will-navigate'), 1);
});
