// No network egress: the CLI loop and browser mode run with egressHook.mjs preloaded (every connect,
// name lookup, HTTP request, fetch, UDP send, listen and spawn is recorded) and, where strace works,
// under strace too, which also sees worker threads and native code at the system-call level.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TSU } from '../imaging/dicomWriter.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { repoRoot, tempDir } from '../helpers/tmp.ts';
import { smallDicom } from './corpus.ts';

const BIN = path.join(repoRoot, 'bin', 'episteme');
const HOOK = path.join(import.meta.dirname, 'egressHook.mjs');
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

interface Attempt { pid: number; kind: string; host?: string; path?: string; url?: string; port?: number; file?: string; args?: string[] }

const straceWorks = spawnSync('strace', ['-f', '-qq', '-e', 'trace=connect', '-o', '/dev/null', 'true']).status === 0;

function destinationOf(a: Attempt): string | null {
  if (a.kind === 'connect') return a.path ? null : (a.host ?? '');
  if (a.kind === 'dns' || a.kind === 'udp') return a.host ?? '';
  if (a.url) return new URL(a.url).hostname.replace(/^\[|\]$/g, '');
  return null;
}

/** Remote addresses in strace's connect/sendto/sendmsg lines; unix and netlink sockets are local by nature. */
function straceDestinations(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const out: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!/sa_family=AF_INET6?\b/.test(line)) continue;
    const address = /inet_addr\("([^"]+)"\)/.exec(line)?.[1] ?? /inet_pton\(AF_INET6, "([^"]+)"/.exec(line)?.[1] ?? '?';
    out.push(address);
  }
  return out;
}

test('the CLI loop and browser mode never reach beyond this machine', { timeout: 15 * 60_000 }, async (t) => {
  const root = tempDir('episteme-egress-');
  const log = path.join(root, 'egress.ndjson');
  const home = path.join(root, 'home');
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${HOOK}`.trim(), EPISTEME_EGRESS_LOG: log, EPISTEME_HOME: home, HOME: home };
  const traces: string[] = [];
  const command = (args: string[]): [string, string[]] => {
    if (!straceWorks) return [BIN, args];
    const trace = path.join(root, `strace-${traces.length}.log`);
    traces.push(trace);
    return ['strace', ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg', '-o', trace, BIN, ...args]];
  };
  const run = (...args: string[]) => {
    const [file, argv] = command(args);
    const result = spawnSync(file, argv, { env, encoding: 'utf8', timeout: 300_000 });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  };
  const must = (...args: string[]) => {
    const result = run(...args);
    assert.ok(result.ok, `episteme ${args.join(' ')}:\n${result.output}`);
    return result.output;
  };

  const images = path.join(root, 'images');
  const labelled = await writeTwoClassPngs(images, 6);
  fs.writeFileSync(path.join(images, 'scan.dcm'), smallDicom(TSU.explicitLE));
  fs.writeFileSync(path.join(root, 'labels.csv'), `path,label\n${labelled.map((l) => `${l.file},${l.label}`).join('\n')}\n`);
  const project = path.join(root, 'project');
  must('init', project, '--classes', 'bars,rings', '--image-size', '28');
  must('import', project, images);
  must('label', project, '--csv', path.join(root, 'labels.csv'));
  must('status', project, '--json');
  must('rank', project);
  must('export', project, path.join(root, 'out-csv'), '--format', 'csv');
  must('export', project, path.join(root, 'out-json'), '--format', 'json');
  must('export', project, path.join(root, 'out-folders'), '--format', 'folders', '--deidentify');
  assert.ok(fs.readdirSync(path.join(root, 'out-folders', 'bars')).every((f) => !f.startsWith('bars-')), 'the CLI export was de-identified (files renamed)');
  must('check', project);
  must('backup', project);
  must('demo', path.join(root, 'demo'), '--count', '12');
  const train = run('train', project, '--epochs', '1', '--samples', '2');
  const trained = train.ok ? 'train included' : `train did not complete, so not included (${train.output.trim().split('\n').at(-1)})`;
  t.diagnostic(trained);

  // Browser mode, driven over its API from this (unhooked) process.
  const [file, argv] = command(['serve', project, '--port', '0']);
  const server = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  server.stdout.on('data', (d: Buffer) => (printed += d.toString()));
  server.stderr.on('data', (d: Buffer) => (printed += d.toString()));
  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
  for (let i = 0; i < 600 && !/running at (http:\S+?)\//.test(printed); i++) await new Promise((r) => setTimeout(r, 100));
  const base = /running at (http:\/\/[^/\s]+)\//.exec(printed)?.[1];
  const token = /running at \S+\?token=([\w-]+)/.exec(printed)?.[1];
  assert.ok(base && token, `serve printed its address with the launch's token:\n${printed}`);
  const api = async (method: string, payload: unknown) => {
    const res = await fetch(`${base}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(payload) });
    return (await res.json()) as { ok: boolean; value: any };
  };
  const waitJob = async (jobId: string) => {
    for (;;) {
      const { value } = await api('job.get', { jobId });
      if (value.status !== 'running') return value;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  assert.equal((await api('app.info', {})).ok, true);
  const opened = await api('project.open', { dir: project });
  const projectId = opened.value.projectId;
  const queue = await api('queue.list', { projectId, acquisition: 'bald' });
  assert.equal(queue.ok, true);
  await fetch(`${base}/?token=${token}`);
  const imported = await api('job.start', { projectId, job: { kind: 'import', paths: [images] } });
  assert.equal((await waitJob(imported.value.jobId)).status, 'succeeded');
  const exported = await api('job.start', { projectId, job: { kind: 'export', out: path.join(root, 'out-serve'), format: 'folders', deidentify: true } });
  assert.equal((await waitJob(exported.value.jobId)).status, 'succeeded');

  // Reachable on loopback only: from any other address of this machine the port is closed.
  const port = Number(new URL(base).port);
  const lan = Object.values(os.networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  if (lan) {
    const refused = await new Promise<boolean>((resolve) => net.connect(port, lan).on('connect', function (this: net.Socket) { this.destroy(); resolve(false); }).on('error', () => resolve(true)));
    assert.ok(refused, `browser mode must not answer on ${lan}:${port}`);
  } else t.diagnostic('no non-loopback interface here: the bind check relies on the recorded listen() calls only');

  const attempts = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Attempt);
  const serverPid = attempts.find((a) => a.kind === 'listen')?.pid;
  assert.ok(serverPid, 'the server recorded its listen()');
  process.kill(serverPid, 'SIGTERM');
  assert.equal(await exited, 0, printed);

  const all = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Attempt);
  const listens = all.filter((a) => a.kind === 'listen');
  assert.deepEqual(listens.map((a) => a.host), ['127.0.0.1'], 'browser mode listens on 127.0.0.1 only');
  const outgoing = all.filter((a) => destinationOf(a) !== null);
  const remote = outgoing.filter((a) => !LOOPBACK.test(destinationOf(a)!));
  const spawned = all.filter((a) => a.kind === 'spawn' && path.basename(a.file ?? '') !== path.basename(process.execPath));
  const syscalls = traces.flatMap(straceDestinations);
  const syscallRemote = syscalls.filter((d) => !LOOPBACK.test(d));
  t.diagnostic(`recorded: ${JSON.stringify(outgoing.map((a) => `${a.kind} ${destinationOf(a)}`))}`);
  console.log(
    `egress: ${new Set(all.map((a) => a.pid)).size} processes hooked; ${outgoing.length} connection attempts / lookups recorded, ${remote.length} to other hosts; ` +
      `${straceWorks ? `strace saw ${syscalls.length} inet connects/sends, ${syscallRemote.length} to other hosts` : 'strace unavailable: system-call check skipped'}; ${trained}`,
  );
  assert.deepEqual(remote, [], 'no connection attempt to another host');
  assert.deepEqual(syscallRemote, [], 'no inet system call to another host');
  assert.deepEqual(spawned, [], 'no program other than node started');
});

test('positive control: the recorders do see connections, lookups and fetches, in workers too', async () => {
  const root = tempDir('episteme-egress-control-');
  const log = path.join(root, 'egress.ndjson');
  const trace = path.join(root, 'strace.log');
  // TEST-NET addresses (RFC 5737): reserved for documentation, never routed.
  const script = `
    const net = require('node:net');
    const { Worker } = require('node:worker_threads');
    net.connect(9, '192.0.2.1').on('error', () => {});
    fetch('http://198.51.100.7/').catch(() => {});
    require('node:dns').lookup('egress-control.invalid', () => {});
    new Worker("require('node:net').connect(9, '203.0.113.9').on('error', () => {})", { eval: true });
    setTimeout(() => process.exit(0), 1000);`;
  const argv = ['--import', HOOK, '-e', script];
  const result = straceWorks
    ? spawnSync('strace', ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg', '-o', trace, process.execPath, ...argv], { env: { ...process.env, EPISTEME_EGRESS_LOG: log } })
    : spawnSync(process.execPath, argv, { env: { ...process.env, EPISTEME_EGRESS_LOG: log } });
  assert.equal(result.status, 0, String(result.stderr));
  const seen = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => destinationOf(JSON.parse(l) as Attempt));
  for (const host of ['192.0.2.1', '198.51.100.7', 'egress-control.invalid']) assert.ok(seen.includes(host), `the hook saw ${host}: ${seen.join(', ')}`);
  if (straceWorks) {
    const syscalls = straceDestinations(trace);
    for (const host of ['192.0.2.1', '203.0.113.9']) assert.ok(syscalls.includes(host), `strace saw ${host} (the second from a worker thread): ${syscalls.join(', ')}`);
  }
});
