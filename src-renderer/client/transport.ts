import type { EpistemeBridge } from '../../src-main/electron/bridge.ts';
import { eventNames, type Envelope, type Method, type Request } from '../../src-main/service/contract.ts';

/** How the client reaches the service: one call per method, plus a stream of pushed events. */
export interface Transport {
  invoke(method: Method, payload: unknown): Promise<Envelope<unknown>>;
  /** Registers a listener for every pushed event; returns the function that removes it. */
  onEvent(listener: (name: string, payload: unknown) => void): () => void;
}

declare global {
  interface Window {
    /** Exposed by the Electron preload (src-main/electron/preload.ts). */
    episteme?: EpistemeBridge;
  }
}

function failure(message: string): Envelope<unknown> {
  return { ok: false, error: { code: 'internal', message } };
}

function isEnvelope(value: unknown): value is Envelope<unknown> {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false;
  const v = value as { ok: unknown; error?: unknown };
  if (v.ok === true) return 'value' in v;
  return v.ok === false && typeof v.error === 'object' && v.error !== null;
}

/** Browser mode: `POST /api/<method>` with a JSON body, events from `EventSource('/api/events')`. */
export function browserTransport(base = '/api'): Transport {
  const listeners = new Set<(name: string, payload: unknown) => void>();
  let source: EventSource | null = null;

  function ensureSource(): void {
    if (source) return;
    source = new EventSource(`${base}/events`);
    for (const name of eventNames) {
      source.addEventListener(name, (event) => {
        let payload: unknown;
        try {
          payload = JSON.parse((event as MessageEvent<string>).data);
        } catch {
          return;
        }
        for (const listener of [...listeners]) listener(name, payload);
      });
    }
  }

  return {
    async invoke(method, payload) {
      let response: Response;
      try {
        response = await fetch(`${base}/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(payload ?? {}),
        });
      } catch (error) {
        return failure(`${method}: the Episteme service cannot be reached (${error instanceof Error ? error.message : String(error)})`);
      }
      if (response.status === 401) return failure(`${method}: this page has no valid access token (the server was restarted?); open the address printed in the terminal`);
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        return failure(`${method}: the service answered HTTP ${response.status} without a JSON envelope`);
      }
      return isEnvelope(body) ? body : failure(`${method}: the service answered HTTP ${response.status} with something that is not an envelope`);
    },
    onEvent(listener) {
      listeners.add(listener);
      ensureSource();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
}

/** Electron mode: the preload's `window.episteme` bridge. */
export function electronTransport(bridge: EpistemeBridge): Transport {
  return {
    async invoke(method, payload) {
      try {
        const envelope: unknown = await bridge.invoke(method, (payload ?? {}) as Request<typeof method>);
        return isEnvelope(envelope) ? envelope : failure(`${method}: the bridge answered something that is not an envelope`);
      } catch (error) {
        return failure(`${method}: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    onEvent(listener) {
      return bridge.onEvent(listener);
    },
  };
}

/** Electron when a preload exposed `window.episteme`, the HTTP API otherwise. */
export function pickTransport(): Transport {
  return 'episteme' in window && window.episteme ? electronTransport(window.episteme) : browserTransport();
}
