/**
 * The one IPC wrapper. Unlike one handler per method, a single channel carries (method, payload) to
 * `dispatch()`, which validates both against the contract, so no method is wired twice and nothing
 * reaches the service unchecked. Before that, the sender must be our window's main frame showing
 * episteme://app (checklist item 17): not a subframe, not another webContents, not a navigated page.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { Envelope, EventName, Service } from '../service/contract.ts';
import { dispatch } from '../service/dispatch.ts';
import { EVENT_CHANNEL, IPC_CHANNEL } from './bridge.ts';
import { isAppUrl } from './protocol.ts';

type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

/** True only for the main frame of `ours`, on the app's own origin. */
export function isTrustedSender(event: SenderEvent, ours: WebContents | null | undefined): boolean {
  // By id: a WebContents' id is unique for the process's lifetime, whatever JS wrapper carries it.
  if (!ours || !event.sender || event.sender.id !== ours.id) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

export const REFUSED: Envelope<never> = {
  ok: false,
  error: { code: 'bad-request', message: 'IPC refused: the sender is not the Episteme window' },
};

export interface IpcOptions {
  service: Service;
  /** The webContents of the current main window (null while there is none). */
  ourContents(): WebContents | null;
}

/** Registers the handler; returns the function that removes it. */
export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, options: IpcOptions): () => void {
  ipcMain.handle(IPC_CHANNEL, async (event, method: unknown, payload: unknown) => {
    if (!isTrustedSender(event, options.ourContents())) {
      console.warn(`[episteme] refused IPC from ${event.senderFrame?.url ?? 'a destroyed frame'}`);
      return REFUSED;
    }
    return dispatch(options.service, method, payload);
  });
  return () => ipcMain.removeHandler(IPC_CHANNEL);
}

/**
 * Forwards the app's events to our window while it shows the app; returns the unsubscribe function.
 * `subscribe` is `EpistemeApp.subscribe`.
 */
export function forwardEvents(
  subscribe: (listener: (name: EventName, payload: unknown) => void) => () => void,
  ourContents: () => WebContents | null,
): () => void {
  return subscribe((name, payload) => {
    const contents = ourContents();
    if (!contents || contents.isDestroyed() || !isAppUrl(contents.getURL())) return;
    contents.send(EVENT_CHANNEL, name, payload);
  });
}
