/**
 * DICOM in the labelling screen, in real Chromium: the image is drawn on a canvas from the float32
 * modality values; the file's window matches the preview the main process rendered; presets and
 * right-drag change window/level. Also opens the demo project. Uses ../shared/data/dicom.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, ensureRenderer, guard, launchChromium, screenshot, serve, sharedDir, type Guards, type Served } from './harness.ts';
import { createProject, setAnnotator, shownImageId, tid } from './pageActions.ts';

const shared = sharedDir();
const dicomDir = shared && path.join(shared, 'data', 'dicom');
const skip = browserSkipReason() ?? (dicomDir && fs.existsSync(path.join(dicomDir, 'CT_small.dcm')) ? null : 'shared/data/dicom is missing');
if (skip) console.log(`# skipping the DICOM browser test: ${skip}`);

describe('DICOM window/level and the demo project in the browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let guards: Guards;

  before(async () => {
    await ensureRenderer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-dicom-'));
    fs.mkdirSync(path.join(work, 'dicom'));
    for (const name of ['CT_small.dcm', 'CT1_UNC.explicit_little_endian.dcm', 'MR_small.dcm']) fs.copyFileSync(path.join(dicomDir!, name), path.join(work, 'dicom', name));
    server = await serve({ home: path.join(work, 'home') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    guards = guard(page, server.origin);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work && !process.env.KEEP_TEST_OUTPUT) fs.rmSync(work, { recursive: true, force: true });
  });

  it('draws CT slices with window/level from the modality values', async () => {
    await page.goto(server.url);
    await page.waitForSelector(tid('home-screen'));
    await createProject(page, { name: 'CT', dir: path.join(work, 'ct-project'), classes: ['normal', 'abnormal'], size: 64, importDir: path.join(work, 'dicom') });
    await page.click(tid('np-create'));
    await page.waitForSelector(`${tid('import-progress')}[data-status="succeeded"]`, { timeout: 120_000 });
    await page.click(tid('import-close'));
    await setAnnotator(page, 'Dr Window');

    // Bring CT_small to the front by clicking its queue row.
    await page.locator(tid('queue-row'), { hasText: 'CT_small.dcm' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="current-name"]')?.textContent === 'CT_small.dcm');
    await shownImageId(page);
    const canvas = page.locator(tid('dicom-canvas'));
    await canvas.waitFor();
    assert.equal(await canvas.getAttribute('data-window'), '136/2064', "the file's window first");
    assert.equal(await page.locator(tid('window-values')).textContent(), 'W 2064 · L 136');

    // Under the file's window the canvas equals the preview the main process rendered (±1 grey level).
    const diff = await page.evaluate(async () => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid="dicom-canvas"]')!;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const shown = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const id = document.querySelector<HTMLElement>('[data-testid="current-name"]')!.dataset.imageId;
      const projectId = document.querySelector<HTMLElement>('[data-testid="project-screen"]')!.dataset.projectId;
      const img = new Image();
      img.src = `/asset/${projectId}/${id}/preview.png`;
      await img.decode();
      if (img.naturalWidth !== c.width || img.naturalHeight !== c.height) return { skipped: `${img.naturalWidth}x${img.naturalHeight}` };
      const off = document.createElement('canvas');
      off.width = c.width;
      off.height = c.height;
      const ctx = off.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const ref = ctx.getImageData(0, 0, c.width, c.height).data;
      let max = 0;
      let sum = 0;
      for (let i = 0; i < ref.length; i += 4) {
        const d = Math.abs(ref[i] - shown[i]);
        max = Math.max(max, d);
        sum += shown[i];
      }
      return { max, mean: sum / (ref.length / 4) };
    });
    if ('skipped' in diff) console.log(`# preview is ${diff.skipped}, not compared pixel by pixel`);
    else {
      assert.ok(diff.max <= 1, `canvas and preview differ by up to ${diff.max} grey levels`);
      assert.ok(diff.mean > 5 && diff.mean < 250, 'the slice is neither black nor white');
    }
    await screenshot(page, 'dicom-01-ct-default-window');

    const pixels = () => page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid="dicom-canvas"]')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i];
      return sum;
    });
    const before = await pixels();
    await page.click(tid('preset-lung'));
    await page.waitForFunction(() => document.querySelector('[data-testid="dicom-canvas"]')?.getAttribute('data-window') === '-600/1500');
    await page.waitForTimeout(100);
    assert.notEqual(await pixels(), before, 'the lung preset redraws the canvas');
    await page.click(tid('preset-bone'));
    await page.waitForFunction(() => document.querySelector('[data-testid="dicom-canvas"]')?.getAttribute('data-window') === '400/1800');
    await screenshot(page, 'dicom-02-ct-bone-preset');

    // Right-drag: horizontal changes the width, vertical the level.
    const box = (await page.locator(tid('image-viewer')).boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(cx - 120, cy + 60, { steps: 6 });
    await page.mouse.up({ button: 'right' });
    const [level, width] = ((await canvas.getAttribute('data-window')) ?? '').split('/').map(Number);
    assert.ok(width < 1800, `dragging left narrows the window (width ${width})`);
    assert.ok(level > 400, `dragging down raises the level (level ${level})`);

    // Shift-drag does the same with the left button; a plain drag pans; the wheel zooms.
    await page.keyboard.down('Shift');
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 80, cy, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const [, widened] = ((await canvas.getAttribute('data-window')) ?? '').split('/').map(Number);
    assert.ok(widened > width, 'shift-drag right widens the window');
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="image-viewer"]')?.dataset.zoom) > 1.2);
    const left = await canvas.evaluate((el) => (el as HTMLElement).style.left);
    await page.mouse.down();
    await page.mouse.move(cx + 100, cy + 30, { steps: 4 });
    await page.mouse.up();
    assert.notEqual(await canvas.evaluate((el) => (el as HTMLElement).style.left), left, 'a drag pans the image');
    await screenshot(page, 'dicom-03-ct-zoomed-windowed');

    // The 512×512 CT, under the soft-tissue preset.
    await page.locator(tid('queue-row'), { hasText: 'CT1_UNC' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="current-name"]')?.textContent?.startsWith('CT1_UNC'));
    await shownImageId(page);
    await page.click(tid('preset-soft'));
    await page.waitForFunction(() => document.querySelector('[data-testid="dicom-canvas"]')?.getAttribute('data-window') === '40/400');
    await screenshot(page, 'dicom-04-ct512-soft-tissue');
    await guards.check(page);
  });

  it('opens the demo project from the home screen', async () => {
    await page.click(tid('close-project'));
    await page.click(tid('home-demo'));
    await page.waitForSelector(tid('project-screen'), { timeout: 120_000 });
    assert.match((await page.textContent(tid('project-name'))) ?? '', /Demo/);
    await shownImageId(page);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="status-total"]')?.textContent) > 0);
    await screenshot(page, 'demo-01-label');
    await guards.check(page);
  });
});
