// Browser mode's access token: without it (or its cookie) the API, the event stream and assets answer
// 401 before reading a body; another Host is refused as DNS rebinding, another Origin as cross-origin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createApp, type EpistemeApp } from '../../src-main/service/app.ts';
import { startServer, type RunningServer } from '../../src-main/server/http.ts';
import { tempDir } from '../helpers/tmp.ts';

let app: EpistemeApp;
let server: RunningServer;
let other: RunningServer;
const root = tempDir('episteme-auth-');

before(async () => {
  const rendererDir = path.join(root, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Episteme</title>');
  fs.writeFileSync(path.join(rendererDir, 'app.js'), 'console.log(1)');
  app = createApp({ mode: 'browser', homeDir: path.join(root, 'home') });
  server = await startServer(app, { rendererDir });
  other = await startServer(app, { rendererDir });
});
after(async () => {
  await server.close();
  await other.close();
  await app.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request to `server`. With `unfinished`, the body is sent but never ended, so an answer proves
 * the server did not wait for (or parse) it. An event stream is cut off once its headers arrive.
 */
function request(urlPath: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; unfinished?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method: options.method ?? 'GET', path: urlPath, headers: options.headers }, (res) => {
      if (res.headers['content-type'] === 'text/event-stream') {
        req.destroy();
        return resolve({ status: res.statusCode!, headers: res.headers, body: '' });
      }
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    if (options.unfinished) req.write(options.body ?? '');
    else req.end(options.body);
  });
}

const post = (method: string, headers: Record<string, string> = {}, body = '{}') => request(`/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The cookie `/?token=` sets, as a Cookie header value. */
async function exchange(target: RunningServer): Promise<string> {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(target.url, resolve).on('error', reject));
  res.resume();
  return (res.headers['set-cookie']?.[0] ?? '').split(';')[0];
}

test('each launch has its own random token in the printed URL', () => {
  assert.match(server.url, new RegExp(`^${server.origin}/\\?token=[A-Za-z0-9_-]{43,}$`));
  assert.notEqual(server.token, other.token);
});

test('the API, the event stream and assets refuse requests without a valid token', async () => {
  const sameLength = server.token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  const refused: [string, Promise<Answer>][] = [
    ['no token', post('app.info')],
    ['no token, GET', request('/api/app.info')],
    ['events', request('/api/events')],
    ['asset', request('/asset/p1/1/preview.png')],
    ['wrong token, same length', post('app.info', bearer(sameLength))],
    ['wrong token, query', request(`/api/events?token=${sameLength}`)],
    ['truncated token', post('app.info', bearer(server.token.slice(0, -1)))],
    ['empty bearer', post('app.info', { authorization: 'Bearer ' })],
    ['token of another server', post('app.info', bearer(other.token))],
    ['cookie of another server', post('app.info', { cookie: await exchange(other) })],
    ['another server token under this cookie name', post('app.info', { cookie: `episteme-token-${server.port}=${other.token}` })],
    ['index page', request('/')],
    ['index page by name', request('/index.html')],
  ];
  for (const [what, answer] of refused) assert.equal((await answer).status, 401, what);
  const page = await request('/');
  assert.match(page.body, /open the address printed in the terminal/);
  assert.doesNotMatch(page.body, /<title>Episteme/);
  assert.equal((await request('/?token=wrong')).headers['set-cookie'], undefined);
});

test('without a token nothing is parsed: malformed, wrongly typed, huge and unfinished bodies all get 401', async () => {
  assert.equal((await post('app.info', {}, '{not json')).status, 401);
  assert.equal((await request('/api/app.info', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status, 401);
  assert.equal((await post('app.info', {}, 'x'.repeat(40 * 1024 * 1024))).status, 401);
  const unfinished = await request('/api/settings.setAnnotator', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) }, body: '{"annotator":"', unfinished: true });
  assert.equal(unfinished.status, 401, 'answered before the body arrived');
  assert.equal((await post('app.info', bearer(server.token))).status, 200, 'still serving');
});

test('another Host (DNS rebinding) or another Origin is refused even with the token', async () => {
  for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${other.port}`, '127.0.0.1']) {
    assert.equal((await post('app.info', { ...bearer(server.token), host })).status, 421, host);
  }
  for (const origin of ['http://evil.example', `http://127.0.0.1:${other.port}`, 'null']) {
    assert.equal((await post('app.info', { ...bearer(server.token), origin })).status, 403, origin);
  }
  for (const host of [`localhost:${server.port}`, `[::1]:${server.port}`]) {
    assert.equal((await post('app.info', { ...bearer(server.token), host, origin: `http://${host}` })).status, 200, host);
  }
});

test('/?token= swaps the token for an HttpOnly SameSite=Strict cookie and redirects to an address without it', async () => {
  const res = await request(`/?token=${server.token}`);
  assert.equal(res.status, 303);
  assert.equal(res.headers.location, '/');
  const cookie = res.headers['set-cookie']?.[0] ?? '';
  const [pair, ...attributes] = cookie.split(';').map((part) => part.trim());
  assert.equal(pair, `episteme-token-${server.port}=${server.token}`);
  assert.deepEqual(attributes.sort(), ['HttpOnly', 'Path=/', 'SameSite=Strict']);

  const withCookie = { cookie: `episteme-token-${other.port}=${other.token}; ${pair}` };
  const page = await request('/', { headers: withCookie });
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>Episteme/);
  const info = await post('app.info', withCookie);
  assert.equal(JSON.parse(info.body).ok, true);
  assert.equal((await request('/api/events', { headers: withCookie })).status, 200);
  assert.equal((await request(`/api/events?token=${server.token}`)).status, 200, 'the token as a query parameter works too');
});

test('the app bundle itself is served without the token', async () => {
  const bundle = await request('/app.js');
  assert.equal(bundle.status, 200);
  assert.equal(bundle.body, 'console.log(1)');
});
