/**
 * Service errors are messages for the user, never a crash: a folder that is no project, a stale
 * #/project/<id> link. (The server answers envelope errors with HTTP 4xx, which Chromium logs as
 * "Failed to load resource"; those lines are the only console errors tolerated here.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, ensureRenderer, guard, launchChromium, screenshot, serve, type Guards, type Served } from './harness.ts';
import { tid } from './pageActions.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping the browser error-handling test: ${skip}`);

describe('service errors in the browser', { skip: skip ?? false, timeout: 180_000 }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let guards: Guards;

  before(async () => {
    await ensureRenderer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-errors-'));
    fs.mkdirSync(path.join(work, 'not-a-project'));
    server = await serve({ home: path.join(work, 'home') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    guards = guard(page, server.origin);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('shows a stale project link and a folder that is no project as messages', async () => {
    await page.goto(`${server.url}#/project/p99`);
    await page.waitForSelector(tid('home-screen'));
    await page.waitForSelector(tid('notice-error'));
    assert.match((await page.textContent(tid('notice-error'))) ?? '', /p99/);
    assert.equal(new URL(page.url()).hash, '', 'the stale link is dropped');
    await page.locator(`${tid('notice-error')} button`).click();
    await page.waitForSelector(tid('notice-error'), { state: 'detached' });

    await page.click(tid('home-open'));
    await page.fill(tid('folder-path'), path.join(work, 'not-a-project'));
    await page.press(tid('folder-path'), 'Enter');
    await page.waitForFunction((dir) => (document.querySelector('[data-testid="folder-path"]') as HTMLInputElement | null)?.value === dir, path.join(work, 'not-a-project'));
    await page.click(tid('open-project-submit'));
    await page.waitForSelector(tid('notice-error'));
    assert.match((await page.textContent(tid('notice-error'))) ?? '', /not an Episteme project/);
    await screenshot(page, 'errors-01-open-not-a-project');
    assert.ok(await page.isVisible(tid('open-project-dialog')), 'the dialog stays open to choose again');

    const failedLoads = guards.consoleErrors.filter((e) => /Failed to load resource: the server responded with a status of 4\d\d/.test(e));
    guards.consoleErrors.splice(0, guards.consoleErrors.length, ...guards.consoleErrors.filter((e) => !failedLoads.includes(e)));
    await guards.check(page);
  });

  it('talks through window.episteme when a preload exposes it (Electron mode)', async () => {
    const electronLike = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const electronGuards = guard(electronLike, server.origin);
    // A stand-in for the preload bridge: same shape as src-main/electron/bridge.ts, carried over HTTP.
    // (A string, not a function: tsx would wrap the function in helpers the page does not have.)
    await electronLike.addInitScript(`
      const calls = [];
      window.__bridgeCalls = calls;
      window.episteme = {
        invoke: async (method, payload) => {
          calls.push(method);
          const response = await fetch('/api/' + method, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
          return response.json();
        },
        onEvent: (listener) => {
          const source = new EventSource('/api/events');
          source.addEventListener('job.progress', (e) => listener('job.progress', JSON.parse(e.data)));
          return () => source.close();
        },
      };
    `);
    await electronLike.goto(server.url);
    await electronLike.waitForSelector(tid('home-screen'));
    await electronLike.waitForFunction(() => /browser mode/.test(document.body.textContent ?? ''));
    const calls = await electronLike.evaluate(() => (window as unknown as { __bridgeCalls: string[] }).__bridgeCalls);
    assert.ok(calls.includes('app.info') && calls.includes('settings.get'), `calls went through the bridge: ${calls.join(', ')}`);
    await electronGuards.check(electronLike);
    await electronLike.close();
  });
});
