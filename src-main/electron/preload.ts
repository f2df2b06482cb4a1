/**
 * The sandboxed preload: it may only require 'electron', so scripts/build-electron.mjs bundles it into
 * dist/electron/preload.cjs. It exposes `window.episteme` = { invoke, onEvent } and nothing of Electron
 * itself (checklist item 20): no ipcRenderer, no IpcRendererEvent reaches the page. The method and
 * event names come from the contract (the build inlines contract.ts's methodNames / eventNames as
 * computed, without zod); anything else is refused here already, and main validates again.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { eventNames, methodNames, type Envelope, type EventName } from '../service/contract.ts';
import { BRIDGE_KEY, EVENT_CHANNEL, IPC_CHANNEL, type EpistemeBridge, type EventListener } from './bridge.ts';

const methods: ReadonlySet<string> = new Set(methodNames);
const events: ReadonlySet<string> = new Set(eventNames);

function refused(message: string): Envelope<never> {
  return { ok: false, error: { code: 'bad-request', message } };
}

function invoke(method: unknown, payload: unknown): Promise<Envelope<unknown>> {
  if (typeof method !== 'string' || !methods.has(method)) {
    return Promise.resolve(refused(`unknown method ${JSON.stringify(String(method)).slice(0, 80)}`));
  }
  return ipcRenderer.invoke(IPC_CHANNEL, method, payload).catch(
    (error: unknown): Envelope<never> => ({
      ok: false,
      error: { code: 'internal', message: error instanceof Error ? error.message : String(error) },
    }),
  );
}

function onEvent(listener: EventListener): () => void {
  if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
  // The IpcRendererEvent stays here: the page gets the event's name and payload only.
  const relay = (_event: unknown, name: unknown, payload: unknown) => {
    if (typeof name === 'string' && events.has(name)) (listener as (name: EventName, payload: unknown) => void)(name as EventName, payload);
  };
  ipcRenderer.on(EVENT_CHANNEL, relay);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, relay);
  };
}

const bridge: EpistemeBridge = { invoke: invoke as EpistemeBridge['invoke'], onEvent };

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
