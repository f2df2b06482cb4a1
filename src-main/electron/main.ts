/**
 * Electron's main process: lifecycle only. Bundled by scripts/build-electron.mjs into
 * dist/electron/main.cjs, beside preload.cjs, migrations/ and the worker bundles; the renderer is
 * dist/renderer, served as episteme://app/. Everything the window can do goes through the one IPC
 * channel (ipc.ts) to the service that createApp builds.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type MenuItemConstructorOptions } from 'electron';
import { createApp, type EpistemeApp } from '../service/app.ts';
import { forwardEvents, registerIpc } from './ipc.ts';
import { registerAppProtocol, registerPrivilegedSchemes, START_URL } from './protocol.ts';
import { hardenSession, hardenWebContents, windowOptions } from './window.ts';

process.setSourceMapsEnabled(true);

const here = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(here, 'preload.cjs');
const RENDERER_DIR = path.resolve(here, '../renderer');

// All before 'ready'. userData is fixed so that development runs and the packaged app share it
// (otherwise it follows the package name, 'episteme' vs 'Episteme').
registerPrivilegedSchemes(protocol);
app.enableSandbox();
app.setPath('userData', path.join(app.getPath('appData'), 'Episteme'));

let episteme: EpistemeApp | null = null;
let mainWindow: BrowserWindow | null = null;
const disposers: Array<() => void> = [];

function ourContents() {
  return mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null;
}

function menuTemplate(): MenuItemConstructorOptions[] {
  // Role menus only: no Help menu with links out of the app.
  const menus: MenuItemConstructorOptions[] = [{ role: 'fileMenu' }, { role: 'editMenu' }, { role: 'viewMenu' }, { role: 'windowMenu' }];
  return process.platform === 'darwin' ? [{ role: 'appMenu' }, ...menus] : menus;
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow(windowOptions(PRELOAD, { devTools: !app.isPackaged }));
  hardenWebContents(window.webContents);
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  return window;
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession);
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate()));
  const instance = createApp({ mode: 'electron', homeDir: app.getPath('userData'), version: app.getVersion() });
  episteme = instance;
  registerAppProtocol(protocol, { rendererDir: RENDERER_DIR, readAsset: (urlPath) => instance.readAsset(urlPath) });
  disposers.push(registerIpc(ipcMain, { service: instance.service, ourContents }));
  disposers.push(forwardEvents((listener) => instance.subscribe(listener), ourContents));
  mainWindow = createWindow();
  await mainWindow.loadURL(START_URL);
}

function fail(error: unknown): void {
  console.error('[episteme] failed to start:', error);
  dialog.showErrorBox('Episteme could not start', error instanceof Error ? error.message : String(error));
  app.exit(1);
}

if (!app.requestSingleInstanceLock()) {
  // Another Episteme is running; it gets 'second-instance' and comes to the front.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  // One window: closing it quits, on macOS too.
  app.on('window-all-closed', () => app.quit());
  let closing: Promise<void> | null = null;
  let closed = false;
  app.on('will-quit', (event) => {
    // Quitting waits for the app to close (jobs cancelled, databases closed).
    if (closed || !episteme) return;
    event.preventDefault();
    if (closing) return;
    for (const dispose of disposers.splice(0)) dispose();
    closing = episteme
      .close()
      .catch((error: unknown) => console.error('[episteme] close failed:', error))
      .finally(() => {
        closed = true;
        app.quit();
      });
  });
  app.whenReady().then(start).catch(fail);
}
