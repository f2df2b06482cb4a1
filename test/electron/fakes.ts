/**
 * Recording stand-ins for the few Electron objects the hardening and IPC code touch. Not Electron:
 * they only remember what was registered, so the tests can call the handlers the way Electron would.
 */
type Listener = (...args: any[]) => unknown;

export class Emitter {
  readonly listeners = new Map<string, Listener[]>();
  on(name: string, listener: Listener): this {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
    return this;
  }
  once(name: string, listener: Listener): this {
    return this.on(name, listener);
  }
  removeListener(name: string, listener: Listener): this {
    this.listeners.set(name, (this.listeners.get(name) ?? []).filter((l) => l !== listener));
    return this;
  }
  emit(name: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(name) ?? []) listener(...args);
  }
  count(name: string): number {
    return this.listeners.get(name)?.length ?? 0;
  }
}

/** An Electron-style event: `url` for navigation events, `preventDefault()` recorded. */
export function fakeEvent(url?: string) {
  return {
    url,
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
}

/** Emits `name` with a fresh event for `url` and tells whether a listener prevented it. */
export function prevented(emitter: Emitter, name: string, url?: string): boolean {
  const event = fakeEvent(url);
  emitter.emit(name, event, url);
  return event.prevented;
}

export class FakeSession extends Emitter {
  permissionRequestHandler: Listener | null | undefined;
  permissionCheckHandler: Listener | null | undefined;
  devicePermissionHandler: Listener | null | undefined;
  spellChecker: boolean | undefined;
  beforeRequest: { filter: { urls: string[] }; listener: Listener } | undefined;
  readonly webRequest = {
    onBeforeRequest: (filter: { urls: string[] }, listener: Listener) => {
      this.beforeRequest = { filter, listener };
    },
  };
  setPermissionRequestHandler(handler: Listener | null) {
    this.permissionRequestHandler = handler;
  }
  setPermissionCheckHandler(handler: Listener | null) {
    this.permissionCheckHandler = handler;
  }
  setDevicePermissionHandler(handler: Listener | null) {
    this.devicePermissionHandler = handler;
  }
  setSpellCheckerEnabled(enabled: boolean) {
    this.spellChecker = enabled;
  }
}

let nextContentsId = 1;

export class FakeWebContents extends Emitter {
  readonly id = nextContentsId++;
  url = '';
  destroyed = false;
  windowOpenHandler: Listener | undefined;
  readonly sent: unknown[][] = [];
  setWindowOpenHandler(handler: Listener) {
    this.windowOpenHandler = handler;
  }
  getURL() {
    return this.url;
  }
  isDestroyed() {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]) {
    this.sent.push([channel, ...args]);
  }
}

/** What `senderFrame` looks like to the IPC check: a URL and a parent (null for a main frame). */
export function fakeFrame(url: string, parent: object | null = null) {
  return { url, parent };
}
