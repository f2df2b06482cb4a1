/**
 * The episteme:// handler as Electron's protocol.handle would call it (Fetch API Request in, Response
 * out): renderer files with the CSP, path traversal refused, /asset/… through readAsset.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  CONTENT_SECURITY_POLICY,
  createProtocolHandler,
  isAppUrl,
  registerAppProtocol,
  registerPrivilegedSchemes,
  resolveInside,
} from '../../src-main/electron/protocol.ts';

let dir: string;
let rendererDir: string;
const assetCalls: string[] = [];
let handler: ReturnType<typeof createProtocolHandler>;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-protocol-'));
  rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'fonts'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><script src="app.js"></script>');
  fs.writeFileSync(path.join(rendererDir, 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(rendererDir, 'fonts', 'a.woff2'), 'woff2');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside the renderer');
  handler = createProtocolHandler({
    rendererDir,
    readAsset: async (urlPath) => {
      assetCalls.push(urlPath);
      if (urlPath === '/asset/p1/12/preview.png') return { mime: 'image/png', body: Buffer.from([0x89, 0x50]) };
      if (urlPath === '/asset/p1/13/preview.png') throw new Error('disk on fire');
      return null;
    },
  });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => handler({ url, method });

test('serves the renderer with its type, the CSP and nosniff; / is index.html', async () => {
  const index = await get('episteme://app/index.html');
  const root = await get('episteme://app/');
  const script = await get('episteme://app/app.js');
  const font = await get('episteme://app/fonts/a.woff2');
  assert.deepEqual(
    {
      index: [index.status, index.headers.get('content-type'), await index.text()],
      root: [root.status, await root.text()],
      script: [script.status, script.headers.get('content-type')],
      font: [font.status, font.headers.get('content-type')],
      csp: index.headers.get('content-security-policy'),
      nosniff: script.headers.get('x-content-type-options'),
    },
    {
      index: [200, 'text/html; charset=utf-8', '<!doctype html><script src="app.js"></script>'],
      root: [200, '<!doctype html><script src="app.js"></script>'],
      script: [200, 'text/javascript; charset=utf-8'],
      font: [200, 'font/woff2'],
      csp: CONTENT_SECURITY_POLICY,
      nosniff: 'nosniff',
    },
  );
});

test('path traversal never leaves the renderer folder', async () => {
  const attempts = [
    'episteme://app/../secret.txt',
    'episteme://app/%2e%2e/secret.txt',
    'episteme://app/..%2fsecret.txt',
    'episteme://app/%2e%2e%2fsecret.txt',
    'episteme://app/fonts/..%5c..%5csecret.txt',
    'episteme://app/..\\secret.txt',
    'episteme://app/%00/index.html',
    'episteme://app/C:%5cWindows%5cwin.ini',
    'episteme://app/fonts//a.woff2',
    'episteme://app/%E0%A4%A',
  ];
  for (const url of attempts) {
    const response = await get(url);
    const body = await response.text();
    assert.ok(response.status === 400 || response.status === 404, `${url} → ${response.status}`);
    assert.ok(!body.includes('outside the renderer'), `${url} leaked the file outside`);
  }
  assert.equal(resolveInside(rendererDir, '/../secret.txt'), null);
  assert.equal(resolveInside(rendererDir, '/fonts/a.woff2'), path.join(rendererDir, 'fonts', 'a.woff2'));
});

test('/asset/… goes to readAsset with the URL path; unknown → 404, failure → 500, traversal never reaches it', async (t) => {
  t.mock.method(console, 'error', () => {});
  assetCalls.length = 0;
  const ok = await get('episteme://app/asset/p1/12/preview.png');
  const missing = await get('episteme://app/asset/p1/99/preview.png');
  const failing = await get('episteme://app/asset/p1/13/preview.png');
  const sneaky = await get('episteme://app/asset/p1/..%2f..%2fsecret.txt');
  assert.deepEqual(
    {
      ok: [ok.status, ok.headers.get('content-type'), [...new Uint8Array(await ok.arrayBuffer())], ok.headers.get('content-security-policy')],
      missing: missing.status,
      failing: failing.status,
      sneaky: sneaky.status,
      calls: assetCalls,
    },
    {
      ok: [200, 'image/png', [0x89, 0x50], CONTENT_SECURITY_POLICY],
      missing: 404,
      failing: 500,
      sneaky: 400,
      calls: ['/asset/p1/12/preview.png', '/asset/p1/99/preview.png', '/asset/p1/13/preview.png'],
    },
  );
});

test('only GET/HEAD on episteme://app', async () => {
  const post = await get('episteme://app/index.html', 'POST');
  const head = await get('episteme://app/index.html', 'HEAD');
  const otherHost = await get('episteme://other/index.html');
  assert.deepEqual(
    { post: post.status, head: [head.status, await head.text()], otherHost: otherHost.status },
    { post: 405, head: [200, ''], otherHost: 404 },
  );
});

test('isAppUrl parses instead of comparing prefixes', () => {
  assert.deepEqual(
    ['episteme://app/index.html', 'episteme://app', 'episteme://app.evil/', 'episteme://user@app/', 'episteme://app:1/', 'https://app/', '', 'x'].map(isAppUrl),
    [true, true, false, false, false, false, false, false],
  );
});

test('registration: privileged scheme (standard, secure, fetch; not CORS, not CSP-bypassing) and protocol.handle("episteme")', () => {
  const schemes: unknown[] = [];
  const handled: string[] = [];
  registerPrivilegedSchemes({ registerSchemesAsPrivileged: (s) => schemes.push(...s) });
  registerAppProtocol({ handle: (scheme) => handled.push(scheme) } as Parameters<typeof registerAppProtocol>[0], {
    rendererDir,
    readAsset: async () => null,
  });
  assert.deepEqual(
    { schemes, handled },
    { schemes: [{ scheme: 'episteme', privileges: { standard: true, secure: true, supportFetchAPI: true } }], handled: ['episteme'] },
  );
});
