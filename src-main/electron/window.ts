/**
 * The window's options and the hardening of its session and web contents, following Electron's security
 * checklist (https://www.electronjs.org/docs/latest/tutorial/security; test/electron/security-checklist.test.ts
 * checks it item by item). Only `import type` from 'electron', so the tests call these with fakes.
 */
import path from 'node:path';
import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { isAppUrl } from './protocol.ts';

export interface WindowOptionsExtra {
  /** DevTools only in development (`!app.isPackaged`); off by default. */
  devTools?: boolean;
}

export function windowOptions(preloadPath: string, extra: WindowOptionsExtra = {}): BrowserWindowConstructorOptions {
  if (!path.isAbsolute(preloadPath)) throw new Error(`the preload path must be absolute: ${preloadPath}`);
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    title: 'Episteme',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      // The spellchecker fetches dictionaries from the network on Windows and Linux; this app is offline.
      spellcheck: false,
      plugins: false,
      enableWebSQL: false,
      safeDialogs: true,
      devTools: extra.devTools ?? false,
      // enableBlinkFeatures is deliberately never set (checklist item 10).
    },
  };
}

/** The network schemes this offline app never requests; cancelled on the session (defence in depth under the CSP). */
export const BLOCKED_REQUEST_URLS = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*'];

type HardenableSession = Pick<
  Session,
  'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler' | 'setSpellCheckerEnabled' | 'on'
> & { webRequest: Pick<Session['webRequest'], 'onBeforeRequest'> };

/** Denies every permission (request and check), device access, downloads and network requests. */
export function hardenSession(session: HardenableSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.setSpellCheckerEnabled(false);
  session.on('will-download', (event) => event.preventDefault());
  session.webRequest.onBeforeRequest({ urls: BLOCKED_REQUEST_URLS }, (_details, callback) => callback({ cancel: true }));
}

type HardenableContents = Pick<WebContents, 'setWindowOpenHandler' | 'on'>;

const hardened = new WeakSet<object>();

/**
 * No new windows, no navigation or redirect away from episteme://app, no <webview>. Idempotent, so it
 * can run both from 'web-contents-created' (every contents, DevTools included) and on the main window.
 */
export function hardenWebContents(contents: HardenableContents): void {
  if (hardened.has(contents)) return;
  hardened.add(contents);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
