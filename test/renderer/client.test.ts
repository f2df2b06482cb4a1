/** The renderer's client, derived from the contract, against a fake transport (no browser needed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { methodNames, type Envelope, type Method } from '../../src-main/service/contract.ts';
import { createClient, ServiceCallError } from '../../src-renderer/client/client.ts';
import type { Transport } from '../../src-renderer/client/transport.ts';

function fakeTransport(answer: (method: Method, payload: unknown) => Envelope<unknown>) {
  const calls: { method: Method; payload: unknown }[] = [];
  const listeners = new Set<(name: string, payload: unknown) => void>();
  const transport: Transport = {
    invoke: async (method, payload) => {
      calls.push({ method, payload });
      return answer(method, payload);
    },
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { transport, calls, emit: (name: string, payload: unknown) => listeners.forEach((l) => l(name, payload)) };
}

const job = { jobId: 'j1', projectId: 'p1', kind: 'train', status: 'running', fraction: 0.5, message: 'training', startedAt: '2026-01-01T00:00:00Z' };

describe('createClient', () => {
  it('has one function per contract method and nothing hand-written', () => {
    const client = createClient(fakeTransport(() => ({ ok: true, value: {} })).transport);
    for (const method of methodNames) assert.equal(typeof client[method], 'function', method);
    assert.deepEqual(Object.keys(client).sort(), [...methodNames, 'subscribe'].sort());
  });

  it('sends checked requests and returns checked responses', async () => {
    const fake = fakeTransport(() => ({ ok: true, value: { annotator: 'A', recentProjects: [] } }));
    const client = createClient(fake.transport);
    assert.deepEqual(await client['settings.setAnnotator']({ annotator: 'A' }), { annotator: 'A', recentProjects: [] });
    assert.deepEqual(fake.calls, [{ method: 'settings.setAnnotator', payload: { annotator: 'A' } }]);
  });

  it('refuses a request the contract refuses, without calling the service', async () => {
    const fake = fakeTransport(() => ({ ok: true, value: {} }));
    const client = createClient(fake.transport);
    await assert.rejects(client['label.add']({ projectId: 'nope', imageId: 1, label: { kind: 'skip' }, annotator: 'A' }), (e: unknown) => e instanceof ServiceCallError && e.code === 'bad-request' && /projectId/.test(e.message));
    assert.equal(fake.calls.length, 0);
  });

  it('turns an envelope error into a ServiceCallError with its code and message', async () => {
    const client = createClient(fakeTransport(() => ({ ok: false, error: { code: 'not-found', message: 'no open project p9' } })).transport);
    await assert.rejects(client['project.status']({ projectId: 'p9' }), (e: unknown) => e instanceof ServiceCallError && e.code === 'not-found' && e.message === 'no open project p9');
  });

  it('rejects an answer that does not match the contract', async () => {
    const client = createClient(fakeTransport(() => ({ ok: true, value: { annotator: 3 } })).transport);
    await assert.rejects(client['settings.get']({}), (e: unknown) => e instanceof ServiceCallError && e.code === 'bad-response');
  });

  it('delivers only well-formed events of the subscribed name', () => {
    const fake = fakeTransport(() => ({ ok: true, value: {} }));
    const client = createClient(fake.transport);
    const seen: unknown[] = [];
    const stop = client.subscribe('job.progress', (state) => seen.push(state.jobId));
    fake.emit('job.progress', job);
    fake.emit('other.event', job);
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      fake.emit('job.progress', { jobId: 'bad' });
    } finally {
      console.warn = warn;
    }
    stop();
    fake.emit('job.progress', job);
    assert.deepEqual(seen, ['j1']);
  });
});
