// Malformed payloads for every method of the contract, through dispatch() and over HTTP: each must be
// refused as bad-request, well-formed payloads naming absent things as not-found, and the server must
// keep answering. The notion of "malformed" lives here, not in the schemas under test.
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createApp, type EpistemeApp } from '../../src-main/service/app.ts';
import { contract, methodNames, type Envelope, type Method } from '../../src-main/service/contract.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { startServer, type RunningServer } from '../../src-main/server/http.ts';
import { tempDir } from '../helpers/tmp.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

interface Spec {
  method: Method;
  /** Required fields only: dropping any of them must be refused. */
  minimal: Obj;
  /** Every field set: each one swapped for a wrong value must be refused. */
  full: Obj;
  paths?: string[];
  /** Fields where any non-empty string is fine. */
  freeText?: string[];
  nullable?: string[];
  /** Numbers with no range (negative and fractional values are fine). */
  anyNumber?: string[];
  /** Real numbers in a range (fractional values are fine, negative or huge ones are not). */
  real?: string[];
}

let root: string;
let app: EpistemeApp;
let server: RunningServer;
let projectId: string;

before(async () => {
  root = tempDir('episteme-payloads-');
  // A payload accepted by mistake must not write outside the temporary folder, even via a relative path.
  const cwd = path.join(root, 'cwd', 'a', 'b');
  fs.mkdirSync(cwd, { recursive: true });
  process.chdir(cwd);
  app = createApp({ mode: 'browser', homeDir: path.join(root, 'home'), backupIntervalMs: 0 });
  server = await startServer(app, { rendererDir: path.join(root, 'renderer') });
  const created = await dispatch(app.service, 'project.create', { dir: path.join(root, 'project'), classes: ['a', 'b'], imageSize: 28 });
  assert.ok(created.ok, JSON.stringify(created));
  projectId = (created.value as { projectId: string }).projectId;
});
after(async () => {
  await server?.close();
  await app?.close();
});

function specs(): Spec[] {
  const p = projectId;
  const dir = path.join(root, 'new-project');
  const one = (method: Method, value: Obj, extra: Partial<Spec> = {}): Spec => ({ method, minimal: value, full: value, ...extra });
  return [
    one('app.info', {}),
    one('settings.get', {}),
    one('settings.setAnnotator', { annotator: 'Dr A' }, { freeText: ['annotator'] }),
    { method: 'fs.listDir', minimal: {}, full: { dir: root }, paths: ['dir'] },
    {
      method: 'project.create',
      minimal: { dir, classes: ['a', 'b'] },
      full: { dir, name: 'N', classes: ['a', 'b'], imageSize: 28, channels: 1, architecture: 'resnet' },
      paths: ['dir'],
      freeText: ['name', 'classes.0', 'classes.1'],
    },
    one('project.open', { dir: path.join(root, 'project') }, { paths: ['dir'] }),
    one('project.openDemo', {}),
    one('project.status', { projectId: p }),
    one('project.setArchitecture', { projectId: p, architecture: 'gal-cnn' }),
    { method: 'queue.list', minimal: { projectId: p, acquisition: 'bald' }, full: { projectId: p, acquisition: 'bald', offset: 0, limit: 10 } },
    one('queue.rerank', { projectId: p }),
    one('image.detail', { projectId: p, imageId: 1 }),
    {
      method: 'label.add',
      minimal: { projectId: p, imageId: 1, label: { kind: 'class', classIdx: 0 }, annotator: 'a' },
      full: { projectId: p, imageId: 1, label: { kind: 'class', classIdx: 0 }, annotator: 'a', msSpent: 10, modelVersionId: 1, acquisition: 'bald', acquisitionScore: 0.5 },
      freeText: ['annotator'],
      nullable: ['modelVersionId', 'acquisition', 'acquisitionScore'],
      anyNumber: ['acquisitionScore'],
    },
    one('label.add', { projectId: p, imageId: 1, label: { kind: 'skip' }, annotator: 'a' }, { freeText: ['annotator'] }),
    one('label.undo', { projectId: p, annotator: 'a' }, { freeText: ['annotator'] }),
    one('model.list', { projectId: p }),
    one('job.start', { projectId: p, job: { kind: 'import', paths: [path.join(root, 'images')] } }, { paths: ['job.paths.0'] }),
    {
      method: 'job.start',
      minimal: { projectId: p, job: { kind: 'train' } },
      full: { projectId: p, job: { kind: 'train', method: 'map', epochs: 1, seed: 0, prior: 'laplace', priorPrecision: 1, architecture: 'gal-cnn' } },
      real: ['job.priorPrecision'],
    },
    {
      method: 'job.start',
      minimal: { projectId: p, job: { kind: 'export', out: path.join(root, 'out'), format: 'csv' } },
      full: { projectId: p, job: { kind: 'export', out: path.join(root, 'out'), format: 'folders', force: false, deidentify: true } },
      paths: ['job.out'],
    },
    { method: 'bdl.priorPredictive', minimal: {}, full: { prior: 'laplace', samples: 2, width: 5, depth: 1, sigmaW: 1, sigmaB: 0.5, seed: 1 }, real: ['sigmaW', 'sigmaB'] },
    one('job.get', { jobId: 'j1' }),
    one('job.cancel', { jobId: 'j1' }),
    one('job.list', { projectId: p }),
  ];
}

const clone = <T extends Json>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function fieldPaths(v: Json, prefix = ''): string[] {
  if (v === null || typeof v !== 'object') return [];
  const keys = Array.isArray(v) ? (v.length ? ['0'] : []) : Object.keys(v);
  return keys.flatMap((k) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...fieldPaths((v as Record<string, Json>)[k], p)];
  });
}

function get(v: Json, p: string): Json {
  return p === '' ? v : p.split('.').reduce<Json>((o, k) => (o as Record<string, Json>)[k], v);
}

function set(v: Obj, p: string, value: Json | undefined): Obj {
  const copy = clone(v);
  const keys = p.split('.');
  const parent = keys.slice(0, -1).reduce<Json>((o, k) => (o as Record<string, Json>)[k], copy) as Record<string, Json>;
  if (value === undefined) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
  return copy;
}

/** `key` added to the object at `p` the way JSON.parse makes it: an own property, even for __proto__. */
function withKey(v: Obj, p: string, key: string, value: Json): Obj {
  const target = get(v, p) as Obj;
  const text = JSON.stringify(target);
  const injected = JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}${text === '{}' ? '' : ','}${text.slice(1)}`) as Obj;
  return p === '' ? injected : set(v, p, injected);
}

const HUGE_STRING = 'x'.repeat(1_000_001);

/** Values that are wrong for the field at `p`, whatever its schema says. */
function wrongValues(spec: Spec, p: string, v: Json): Json[] {
  const nullable = spec.nullable?.includes(p) ?? false;
  const anyNumber = spec.anyNumber?.includes(p) ?? false;
  const out: Json[] = [];
  if (!nullable) out.push(null);
  if (typeof v === 'string') {
    out.push(0, true, [], {}, [v], '', HUGE_STRING);
    if (!spec.freeText?.includes(p)) out.push('x', `${v}\n`, `../${v}`);
    if (spec.paths?.includes(p)) out.push('../../etc', 'relative/folder', `${root}/x/../../escape`, `${root}/a\0b`, '~/x');
  } else if (typeof v === 'number') {
    out.push(String(v), true, [], {}, [v], NaN, Infinity, -Infinity);
    if (!anyNumber) out.push(-1, 1e300, -(2 ** 53));
    if (!anyNumber && !spec.real?.includes(p)) out.push(1.5);
  } else if (typeof v === 'boolean') out.push('true', 1, [], {}, [v]);
  else if (Array.isArray(v)) out.push('x', 1, {}, [], Array.from({ length: 100_001 }, () => v[0]));
  else if (v && typeof v === 'object') out.push('x', 1, [], [v], {});
  return out;
}

function malformed(spec: Spec): { what: string; payload: unknown }[] {
  const out: { what: string; payload: unknown }[] = [];
  for (const p of fieldPaths(spec.full)) {
    for (const w of wrongValues(spec, p, get(spec.full, p))) out.push({ what: `${p} = ${JSON.stringify(w)?.slice(0, 40)}`, payload: set(spec.full, p, w) });
  }
  for (const p of fieldPaths(spec.minimal)) {
    if (!/\.\d+$/.test(p)) out.push({ what: `${p} missing`, payload: set(spec.minimal, p, undefined) });
  }
  const objects = ['', ...fieldPaths(spec.full).filter((p) => { const v = get(spec.full, p); return !!v && typeof v === 'object' && !Array.isArray(v); })];
  for (const p of objects) {
    for (const [key, value] of [['extra', 1], ['__proto__', { polluted: true }], ['constructor', { prototype: { polluted: true } }], ['prototype', { polluted: true }]] as [string, Json][]) {
      out.push({ what: `${p || 'payload'} + ${key}`, payload: withKey(spec.full, p, key, value) });
    }
  }
  let deep: Json = [];
  for (let i = 0; i < 1_000; i++) deep = [deep];
  for (const payload of [null, [], [spec.full], 'x', 0, true, deep]) out.push({ what: `payload = ${JSON.stringify(payload).slice(0, 20)}`, payload });
  return out;
}

/** JSON as a careless or hostile client would send it: non-finite numbers as bare tokens. */
function toBody(payload: unknown): string {
  return JSON.stringify(payload, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? `@@${v}@@` : v)).replace(/"@@(-?\w+)@@"/g, '$1');
}

/** A POST carrying the launch's token, unless `withToken` is false (then every answer must be 401). */
function post(urlPath: string, body: string, withToken = true): Promise<{ status: number; body: string }> {
  const auth: Record<string, string> = withToken ? { authorization: `Bearer ${server.token}` } : {};
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: urlPath, headers: { 'content-type': 'application/json', ...auth } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function overHttp(method: string, payload: unknown): Promise<Envelope<unknown>> {
  const res = await post(`/api/${encodeURIComponent(method)}`, toBody(payload));
  // The envelope carries the verdict; the HTTP status (200 or 4xx) is the server's concern, a 5xx never right.
  assert.ok(res.status < 500, `HTTP ${res.status} for ${res.body.slice(0, 100)}`);
  return JSON.parse(res.body) as Envelope<unknown>;
}

/** Without the token the server answers 401 before it reads the body: the payload never reaches a method. */
async function unauthorisedOverHttp(method: string, payload: unknown): Promise<Envelope<unknown>> {
  const res = await post(`/api/${encodeURIComponent(method)}`, toBody(payload), false);
  return res.status === 401 ? { ok: false, error: { code: 'bad-request', message: 'refused: 401 without the token' } } : { ok: false, error: { code: 'internal', message: `HTTP ${res.status} without the token: ${res.body.slice(0, 60)}` } };
}

async function refusedOverHttp(urlPath: string, body: string): Promise<void> {
  const res = await post(urlPath, body);
  assert.ok(res.status < 500, `POST ${urlPath}: HTTP ${res.status}`);
  const envelope = JSON.parse(res.body) as Envelope<unknown>;
  assert.ok(!envelope.ok && envelope.error.code === 'bad-request', `POST ${urlPath} ${body.slice(0, 20)}: ${res.body.slice(0, 120)}`);
}

test('every method refuses malformed payloads over dispatch and HTTP (with the token: bad-request; without: 401); the server keeps answering', { timeout: 600_000 }, async () => {
  const all = specs();
  assert.deepEqual(methodNames.filter((m) => !all.some((s) => s.method === m)), [], 'every method has malformed payloads here');
  for (const s of all) {
    for (const example of [s.minimal, s.full]) assert.ok(contract[s.method].request.safeParse(example).success, `${s.method}: the valid example ${JSON.stringify(example)} is valid`);
  }
  let tried = 0;
  const wrong: string[] = [];
  for (const s of all) {
    for (const { what, payload } of malformed(s)) {
      const transports = [
        ['dispatch', () => dispatch(app.service, s.method, payload)],
        ['http', () => overHttp(s.method, payload)],
        ['http without token', () => unauthorisedOverHttp(s.method, payload)],
      ] as const;
      for (const [transport, send] of transports) {
        tried++;
        const result = await send();
        if (result.ok || result.error.code !== 'bad-request' || !result.error.message) {
          wrong.push(`${transport} ${s.method} ${what}: ${result.ok ? 'ACCEPTED' : `${result.error.code}: ${result.error.message.slice(0, 80)}`}`);
        }
      }
    }
  }
  const acceptedWrongly = wrong.filter((w) => w.endsWith('ACCEPTED')).length;
  console.log(`malformed payloads: ${tried} tried over ${methodNames.length} methods (dispatch, HTTP with and without the token); accepted wrongly ${acceptedWrongly}; refused with another code ${wrong.length - acceptedWrongly}`);
  assert.deepEqual(wrong.slice(0, 30), [], `${wrong.length} payloads were not refused as bad-request`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  assert.equal((await overHttp('app.info', {})).ok, true, 'still serving');
});

test('well-formed payloads naming absent things are not-found (or bad-request), on both transports', async () => {
  const absent: [Method, unknown, string[]][] = [
    ...(['project.status', 'model.list', 'job.list'] as const).map((m): [Method, unknown, string[]] => [m, { projectId: 'p999' }, ['not-found']]),
    ['queue.list', { projectId: 'p999', acquisition: 'bald' }, ['not-found']],
    ['queue.rerank', { projectId: 'p999' }, ['not-found']],
    ['image.detail', { projectId: 'p999', imageId: 1 }, ['not-found']],
    ['image.detail', { projectId, imageId: 2 ** 31 }, ['not-found']],
    ['label.add', { projectId: 'p999', imageId: 1, label: { kind: 'skip' }, annotator: 'a' }, ['not-found']],
    ['label.add', { projectId, imageId: 2 ** 31, label: { kind: 'skip' }, annotator: 'a' }, ['not-found', 'bad-request']],
    ['label.undo', { projectId: 'p999', annotator: 'a' }, ['not-found']],
    ['job.start', { projectId: 'p999', job: { kind: 'train' } }, ['not-found']],
    ['job.get', { jobId: 'j999999' }, ['not-found']],
    ['job.cancel', { jobId: 'j999999' }, ['not-found']],
    ['fs.listDir', { dir: path.join(root, 'no-such-folder') }, ['not-found']],
    ['project.open', { dir: path.join(root, 'no-such-project') }, ['not-found', 'bad-request']],
  ];
  for (const [method, payload, codes] of absent) {
    for (const result of [await dispatch(app.service, method, payload), await overHttp(method, payload)]) {
      assert.ok(!result.ok && codes.includes(result.error.code), `${method} ${JSON.stringify(payload)}: ${JSON.stringify(result)}`);
    }
  }
});

test('hostile method names, bodies and URLs get a 4xx, never a 500', async () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '', 'APP.INFO', 'app.info%00', '%E0%A4%A', '%']) await refusedOverHttp(`/api/${name}`, '{}');
  let deep = '';
  for (let i = 0; i < 100_000; i++) deep += '[';
  for (const body of ['{not json', '', 'NaN', '[1,2', deep, '{"a":1}'.repeat(1000)]) await refusedOverHttp('/api/app.info', body);
  await refusedOverHttp('/api/settings.setAnnotator', JSON.stringify({ annotator: 'x'.repeat(3 * 1024 * 1024) }));
  for (const url of ['/%E0%A4%A', '/%', '/asset/%E0%A4%A']) {
    const res = await new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port: server.port, path: url, headers: { authorization: `Bearer ${server.token}` } }, (r) => (r.resume(), resolve(r.statusCode!))).on('error', reject));
    assert.ok(res >= 400 && res < 500, `GET ${url}: ${res}`);
  }
  assert.equal((await overHttp('app.info', {})).ok, true, 'still serving');
});
