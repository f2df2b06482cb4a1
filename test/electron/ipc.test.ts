/**
 * The IPC wrapper with a recording ipcMain and a fake service behind the real dispatch(): the sender
 * check comes first, then the contract's validation, and events go only to our window on the app.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WebContents } from 'electron';
import { EVENT_CHANNEL, IPC_CHANNEL } from '../../src-main/electron/bridge.ts';
import { forwardEvents, REFUSED, registerIpc } from '../../src-main/electron/ipc.ts';
import { methodNames, type EventName, type Service } from '../../src-main/service/contract.ts';
import { FakeWebContents, fakeFrame } from './fakes.ts';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

function setup() {
  const handlers = new Map<string, Handler>();
  const removed: string[] = [];
  const served: string[] = [];
  const service = Object.fromEntries(
    methodNames.map((name) => [
      name,
      async (request: unknown) => {
        served.push(name);
        return name === 'app.info' ? { version: '1', mode: 'electron', defaultProjectsDir: '/p', demoDir: '/d', echo: request } : null;
      },
    ]),
  ) as unknown as Service;
  const ours = new FakeWebContents();
  const ipcMain = {
    handle: (channel: string, handler: Handler) => handlers.set(channel, handler),
    removeHandler: (channel: string) => removed.push(channel),
  };
  const dispose = registerIpc(ipcMain as unknown as Parameters<typeof registerIpc>[0], {
    service,
    ourContents: () => ours as unknown as WebContents,
  });
  const call = (sender: object, url: string, ...args: unknown[]) =>
    handlers.get(IPC_CHANNEL)!({ sender, senderFrame: fakeFrame(url) }, ...args);
  return { handlers, removed, served, ours, dispose, call };
}

test('one handler, on the one channel; the disposer removes it', () => {
  const { handlers, removed, dispose } = setup();
  dispose();
  assert.deepEqual({ channels: [...handlers.keys()], removed }, { channels: ['episteme:invoke'], removed: ['episteme:invoke'] });
});

test('a valid call from our window is dispatched and answered in an envelope', async () => {
  const { call, ours, served } = setup();
  const answer = await call(ours, 'episteme://app/index.html', 'app.info', {});
  assert.deepEqual(answer, { ok: true, value: { version: '1', mode: 'electron', defaultProjectsDir: '/p', demoDir: '/d', echo: {} } });
  assert.deepEqual(served, ['app.info']);
});

test('foreign senders are refused before the service is reached', async (t) => {
  t.mock.method(console, 'warn', () => {});
  const { call, ours, served } = setup();
  const answers = [
    await call(new FakeWebContents(), 'episteme://app/index.html', 'app.info', {}),
    await call(ours, 'https://evil.example/', 'app.info', {}),
    await call(ours, 'file:///tmp/index.html', 'app.info', {}),
  ];
  assert.deepEqual({ answers, served }, { answers: [REFUSED, REFUSED, REFUSED], served: [] });
});

test('malformed calls get bad-request from the contract, and the service is not reached', async () => {
  const { call, ours, served } = setup();
  const answers = await Promise.all([
    call(ours, 'episteme://app/index.html', 'app.info', { extra: 1 }),
    call(ours, 'episteme://app/index.html', 'project.status', { projectId: 'not-an-id' }),
    call(ours, 'episteme://app/index.html', 'app.quit', {}),
    call(ours, 'episteme://app/index.html', { method: 'app.info' }, {}),
  ]);
  assert.deepEqual(
    { codes: answers.map((a) => (a as { ok: boolean; error?: { code: string } }).error?.code), served },
    { codes: ['bad-request', 'bad-request', 'bad-request', 'bad-request'], served: [] },
  );
});

test('events are sent to our window only while it shows the app; unsubscribing stops them', () => {
  let listener: ((name: EventName, payload: unknown) => void) | undefined;
  let unsubscribed = false;
  const ours = new FakeWebContents();
  let current: FakeWebContents | null = ours;
  const stop = forwardEvents(
    (l) => {
      listener = l;
      return () => {
        unsubscribed = true;
      };
    },
    () => current as unknown as WebContents | null,
  );
  ours.url = 'episteme://app/index.html';
  listener!('job.progress', { jobId: 'j1' });
  ours.url = 'https://evil.example/';
  listener!('job.progress', { jobId: 'j2' });
  ours.url = 'episteme://app/index.html';
  ours.destroyed = true;
  listener!('job.progress', { jobId: 'j3' });
  current = null;
  listener!('job.progress', { jobId: 'j4' });
  stop();
  assert.deepEqual({ sent: ours.sent, unsubscribed }, { sent: [[EVENT_CHANNEL, 'job.progress', { jobId: 'j1' }]], unsubscribed: true });
});
