/**
 * What the preload and the main process agree on, and what the renderer sees as `window.episteme`.
 * No runtime imports (only types), so the renderer may import the `EpistemeBridge` type from here and
 * the preload bundle stays free of main-process code.
 */
import type { Envelope, EventName, EventPayload, Method, Request, Response } from '../service/contract.ts';

/** The one IPC channel for requests: renderer → main, answered by `dispatch()`. */
export const IPC_CHANNEL = 'episteme:invoke' as const;
/** The one IPC channel for events: main → renderer (`webContents.send(EVENT_CHANNEL, name, payload)`). */
export const EVENT_CHANNEL = 'episteme:event' as const;
/** The key under which the preload exposes the bridge: `window.episteme`. */
export const BRIDGE_KEY = 'episteme' as const;

export type EventListener = <E extends EventName>(name: E, payload: EventPayload<E>) => void;

/**
 * `window.episteme` in Electron. Every call resolves to an envelope (never rejects), so the renderer's
 * client handles IPC and HTTP answers the same way. Unknown method names are refused in the preload.
 */
export interface EpistemeBridge {
  invoke<M extends Method>(method: M, payload: Request<M>): Promise<Envelope<Response<M>>>;
  /** Subscribes to main-process events; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void;
}
