import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createApp, type EpistemeApp } from '../../src-main/service/app.ts';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { startServer, type RunningServer } from '../../src-main/server/http.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { tempDir } from '../helpers/tmp.ts';

let app: EpistemeApp;
let server: RunningServer;
let root: string;

before(async () => {
  root = tempDir();
  app = createApp({ mode: 'browser', homeDir: path.join(root, 'home') });
  server = await startServer(app, { rendererDir: path.join(root, 'renderer') });
});
after(async () => {
  await server.close();
  await app.close();
});

function rawRequest(method: string, urlPath: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: urlPath, headers: { authorization: `Bearer ${server.token}`, ...headers } }, (res) => {
      let data = '';
      res.on('data', (chunk) => (data += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function call(method: string, payload: unknown): Promise<{ status: number; json: { ok: boolean; value?: any; error?: { code: string; message: string } } }> {
  const res = await fetch(`${server.origin}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify(payload) });
  return { status: res.status, json: await res.json() };
}

async function waitForJob(jobId: string): Promise<JobStateT> {
  for (;;) {
    const { json } = await call('job.get', { jobId });
    if (json.value.status !== 'running') return json.value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('binds to 127.0.0.1 and refuses other Host headers and other origins', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
  const rebound = await rawRequest('GET', '/', { Host: 'evil.example:80' });
  assert.equal(rebound.status, 421);
  const crossOrigin = await rawRequest('POST', '/api/app.info', { Host: `127.0.0.1:${server.port}`, Origin: 'http://evil.example', 'Content-Type': 'application/json' }, '{}');
  assert.equal(crossOrigin.status, 403);
  const form = await rawRequest('POST', '/api/app.info', { Host: `127.0.0.1:${server.port}`, 'Content-Type': 'text/plain' }, '{}');
  assert.equal(JSON.parse(form.body).ok, false, 'a simple (form-like) request cannot reach the API');
});

test('malformed payloads are refused by the schema and the server stays up', async () => {
  const bad: [string, unknown][] = [
    ['nope.method', {}],
    ['project.create', { dir: 5, classes: ['a', 'b'] }],
    ['project.create', { classes: ['a', 'b'] }],
    ['project.create', { dir: '/tmp/x', classes: ['a', 'b'], extra: true }],
    ['project.create', JSON.parse('{"dir":"/tmp/x","classes":["a","b"],"__proto__":{"admin":true}}')],
    ['project.create', { dir: '/tmp/x', classes: Array.from({ length: 100_000 }, () => 'c') }],
    ['label.add', { projectId: 'p1', imageId: -1, label: { kind: 'class', classIdx: 0 }, annotator: 'a' }],
    ['label.add', { projectId: '../p1', imageId: 1, label: { kind: 'class' }, annotator: 'a' }],
    ['queue.list', { projectId: 'p1', acquisition: 'oracle' }],
    ['job.start', { projectId: 'p1', job: { kind: 'shell', command: 'rm -rf /' } }],
  ];
  for (const [method, payload] of bad) {
    const { status, json } = await call(method, payload);
    assert.equal(status, 200, 'an envelope, whatever it says');
    assert.equal(json.ok, false, `${method} ${JSON.stringify(payload).slice(0, 80)}`);
    assert.equal(json.error?.code, 'bad-request');
    assert.ok(json.error!.message.length > 0);
  }
  const broken = await rawRequest('POST', '/api/app.info', { Host: `127.0.0.1:${server.port}`, 'Content-Type': 'application/json' }, '{not json');
  assert.equal(JSON.parse(broken.body).error.code, 'bad-request');
  assert.equal((await call('app.info', {})).json.ok, true, 'still serving');
});

test('create, import as a job with progress events, label, undo and queue over HTTP', async () => {
  await writeTwoClassPngs(path.join(root, 'images'), 4);
  const created = await call('project.create', { dir: path.join(root, 'project'), classes: ['bars', 'rings'], imageSize: 28 });
  assert.equal(created.json.ok, true, JSON.stringify(created.json));
  const projectId = created.json.value.projectId;

  const events: JobStateT[] = [];
  const unsubscribe = app.subscribe((name, payload) => name === 'job.progress' && events.push(payload as JobStateT));
  const started = await call('job.start', { projectId, job: { kind: 'import', paths: [path.join(root, 'images')] } });
  const finished = await waitForJob(started.json.value.jobId);
  unsubscribe();
  assert.equal(finished.status, 'succeeded');
  assert.equal(finished.result?.kind === 'import' && finished.result.summary.added, 8);
  assert.ok(events.some((e) => e.status === 'succeeded' && e.fraction === 1));

  const queue = await call('queue.list', { projectId, acquisition: 'bald', limit: 3 });
  assert.equal(queue.json.value.total, 8);
  assert.equal(queue.json.value.items.length, 3);
  const imageId = queue.json.value.items[0].imageId;
  const preview = await fetch(`${server.origin}/asset/${projectId}/${imageId}/preview.png?token=${server.token}`);
  assert.equal(preview.headers.get('content-type'), 'image/png');
  assert.deepEqual([...new Uint8Array(await preview.arrayBuffer()).subarray(1, 4)], [0x50, 0x4e, 0x47]);

  const labelled = await call('label.add', { projectId, imageId, label: { kind: 'class', classIdx: 1 }, annotator: 'Dr B', msSpent: 900, acquisition: 'bald' });
  assert.equal(labelled.json.ok, true);
  assert.equal((await call('queue.list', { projectId, acquisition: 'bald' })).json.value.total, 7);
  const outOfRange = await call('label.add', { projectId, imageId, label: { kind: 'class', classIdx: 5 }, annotator: 'Dr B' });
  assert.equal(outOfRange.json.error?.code, 'bad-request');
  const undone = await call('label.undo', { projectId, annotator: 'Dr B' });
  assert.equal(undone.json.value.undone.imageId, imageId);
  assert.equal((await call('queue.list', { projectId, acquisition: 'bald' })).json.value.total, 8);

  const status = await call('project.status', { projectId });
  assert.equal(status.json.value.unlabelled, 8);
  const missing = await call('project.status', { projectId: 'p999' });
  assert.equal(missing.json.error?.code, 'not-found');
});

test('static files cannot escape the renderer folder', async () => {
  const res = await rawRequest('GET', '/..%2f..%2fetc%2fpasswd', { Host: `127.0.0.1:${server.port}` });
  assert.equal(res.status, 404);
  const asset = await rawRequest('GET', '/asset/p1/1/../../../etc/passwd', { Host: `127.0.0.1:${server.port}` });
  assert.equal(asset.status, 404);
});
