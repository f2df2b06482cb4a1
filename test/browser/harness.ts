/**
 * Shared set-up of the browser tests: real Chromium (Debian's, at /usr/bin/chromium) driven by
 * playwright-core, the app in browser mode (`bin/episteme serve`) with its own EPISTEME_HOME, and
 * page guards (no request outside the page's origin, no Node in the page, no console errors).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'screenshots');

/** Why the browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing: install it with "apt-get update && apt-get install -y chromium" to run the browser tests`;
  if (!fs.existsSync(path.join(ROOT, 'bin', 'episteme'))) return 'bin/episteme is missing: the browser-mode server is needed';
  return null;
}

/** The shared data folder (../shared beside the checkout, or /work/shared), if present. */
export function sharedDir(): string | null {
  for (const dir of [process.env.EPISTEME_SHARED, path.resolve(ROOT, '..', 'shared'), '/work/shared']) {
    if (dir && fs.existsSync(path.join(dir, 'data'))) return dir;
  }
  return null;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds the renderer when dist/renderer is older than its sources. Builds into a scratch folder and
 * renames the files into place, so a test file running in parallel never serves half a bundle.
 */
export async function ensureRenderer(): Promise<void> {
  const outDir = path.join(ROOT, 'dist', 'renderer');
  const bundle = path.join(outDir, 'app.js');
  const sources = Math.max(newestMtime(path.join(ROOT, 'src-renderer')), fs.statSync(path.join(ROOT, 'src-main/service/contract.ts')).mtimeMs);
  if (fs.existsSync(bundle) && fs.existsSync(path.join(outDir, 'index.html')) && fs.statSync(bundle).mtimeMs >= sources) return;
  fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(ROOT, 'dist', '.renderer-'));
  try {
    const { buildRenderer } = (await import(path.join(ROOT, 'scripts', 'build-renderer.mjs'))) as { buildRenderer(o: { outDir: string; quiet: boolean }): Promise<unknown> };
    await buildRenderer({ outDir: scratch, quiet: true });
    fs.mkdirSync(outDir, { recursive: true });
    for (const name of fs.readdirSync(scratch)) fs.renameSync(path.join(scratch, name), path.join(outDir, name));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export interface Served {
  /** The printed address, with the launch's access token. */
  url: string;
  origin: string;
  token: string;
  home: string;
  stop(): Promise<void>;
}

/** Starts `bin/episteme serve` on a free port with an isolated HOME and EPISTEME_HOME. */
export async function serve(options: { home?: string; dir?: string } = {}): Promise<Served> {
  const home = options.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-home-'));
  const args = ['serve', ...(options.dir ? [options.dir] : []), '--port', '0'];
  const child: ChildProcess = spawn(path.join(ROOT, 'bin', 'episteme'), args, {
    cwd: ROOT,
    env: { ...process.env, HOME: home, EPISTEME_HOME: path.join(home, '.episteme') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no URL within 60 s:\n${log}`)), 60_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const match = /Episteme is running at (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      process.stderr.write(`[server] ${chunk.toString()}`);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before printing its URL:\n${log}`));
    });
  });
  return {
    url,
    origin: new URL(url).origin,
    token: new URL(url).searchParams.get('token') ?? '',
    home,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface Guards {
  foreignRequests: string[];
  consoleErrors: string[];
  pageErrors: string[];
  /** Asserts nothing left the origin, nothing was logged as an error, and no Node global is visible. */
  check(page: Page): Promise<void>;
}

/** Records every request outside `origin` (blob: and data: URLs are the page's own) and every console error. */
export function guard(page: Page, origin: string): Guards {
  const guards: Guards = {
    foreignRequests: [],
    consoleErrors: [],
    pageErrors: [],
    async check(p: Page) {
      assert.deepEqual(guards.foreignRequests, [], 'the page made requests outside its own origin');
      assert.deepEqual(guards.pageErrors, [], 'uncaught exceptions in the page');
      assert.deepEqual(guards.consoleErrors, [], 'console errors in the page');
      const node = await p.evaluate(() => ({ require: typeof (globalThis as { require?: unknown }).require, process: typeof (globalThis as { process?: unknown }).process, module: typeof (globalThis as { module?: unknown }).module }));
      assert.deepEqual(node, { require: 'undefined', process: 'undefined', module: 'undefined' }, 'Node globals visible in the page');
    },
  };
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('blob:') || url.startsWith('data:')) return;
    if (new URL(url).origin !== origin) guards.foreignRequests.push(url);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') guards.consoleErrors.push(`${message.text()} @ ${message.location().url}`);
  });
  page.on('pageerror', (error) => guards.pageErrors.push(String(error)));
  return guards;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  // Let MUI's transitions (ripples, colour fades) settle so the picture shows the steady state.
  await page.waitForTimeout(400);
  await page.screenshot({ path: file });
  return file;
}
