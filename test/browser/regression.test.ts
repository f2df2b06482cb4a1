/**
 * A regression project in the browser: the New project dialog with a numeric target, labelling by
 * typing numbers (Enter saves, S skips, Ctrl+Z undoes; a held key acts once; Ctrl+Z with text typed is
 * the field's own undo; an out-of-range number is refused), training
 * the GP on the Model tab, and the mean with its 90% interval on the Label screen.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { writeSeverityPngs } from '../helpers/regressionImages.ts';
import { browserSkipReason, ensureRenderer, guard, launchChromium, screenshot, serve, type Guards, type Served } from './harness.ts';
import { currentName, setAnnotator, shownImageId, tid, waitForAdvance, waitForJob } from './pageActions.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping the browser regression test: ${skip}`);

describe('regression labelling in the browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let guards: Guards;
  const truth = new Map<string, number>();

  before(async () => {
    await ensureRenderer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-regression-'));
    for (const { file, value } of await writeSeverityPngs(path.join(work, 'images'), 30, 7)) truth.set(path.basename(file), value);
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

  it('creates a regression project, labels by typing numbers, trains the GP and shows mean ± interval', async () => {
    const projectDir = path.join(work, 'projects', 'severity');
    await page.goto(server.url);
    await page.click(tid('home-new'));
    await page.fill(tid('np-name'), 'Severity');
    await page.fill(tid('np-dir'), projectDir);
    await page.click(tid('np-task-regression'));
    await page.fill(tid('np-target'), 'severity');
    await page.fill(tid('np-min'), '0');
    await page.fill(tid('np-max'), '10');
    await page.click(tid('np-size-28'));
    await page.fill(tid('np-import'), path.join(work, 'images'));
    await screenshot(page, 'regression-01-new-project');
    await page.click(tid('np-create'));
    assert.equal(await waitForJob(page, 'import-progress', 120_000), 'succeeded');
    await page.click(tid('import-close'));
    await setAnnotator(page, 'Dr Regression');
    await page.waitForSelector(tid('value-input'));

    // An out-of-range number is refused in the field; nothing is saved.
    let imageId = await shownImageId(page);
    await page.keyboard.type('12');
    await page.waitForSelector(`${tid('value-save')}[disabled]`);
    assert.match((await page.textContent(tid('value-input'))) ?? '', /outside 0 to 10/);
    await page.fill(tid('value-field'), '');

    // Twelve images labelled with the keyboard by their true severity, one skipped (S), the last undone (Ctrl+Z).
    const labelled: number[] = [];
    for (let i = 0; i < 12; i++) {
      imageId = await shownImageId(page);
      await page.keyboard.type(String(truth.get(await currentName(page))));
      await page.keyboard.press('Enter');
      labelled.push(imageId);
      await waitForAdvance(page, imageId);
    }
    imageId = await shownImageId(page);
    await page.keyboard.press('s');
    await waitForAdvance(page, imageId);
    await page.keyboard.press('Control+z');
    await page.waitForFunction((id) => document.querySelector<HTMLElement>('[data-testid="current-name"]')?.dataset.imageId === String(id), imageId);
    await page.waitForFunction(() => document.querySelector('[data-testid="status-labelled"]')?.textContent === '12');

    // A held S (auto-repeat) skips one image only; with text in the field Ctrl+Z is the field's own undo, not a label undo.
    // Keys act only once the image is on screen, and the repeats are ignored: wait for the picture first.
    assert.equal(await shownImageId(page), imageId);
    for (let i = 0; i < 4; i++) await page.keyboard.down('s');
    await page.keyboard.up('s');
    await waitForAdvance(page, imageId);
    const afterSkip = await shownImageId(page);
    await page.keyboard.type('3');
    await page.keyboard.press('Control+z');
    await page.waitForTimeout(500);
    assert.equal(await shownImageId(page), afterSkip);
    await page.fill(tid('value-field'), '');
    await page.keyboard.press('Control+z');
    await page.waitForFunction((id) => document.querySelector<HTMLElement>('[data-testid="current-name"]')?.dataset.imageId === String(id), imageId);
    await screenshot(page, 'regression-02-labelling');

    // Train the GP; the Model tab shows its hyper-parameters and the held-out RMSE curve.
    await page.click(tid('tab-model'));
    await page.waitForSelector(tid('train-method-gp'));
    await page.click(tid('train-button'));
    assert.equal(await waitForJob(page, 'train-progress', 120_000), 'succeeded');
    await page.waitForSelector(tid('gp-facts'));
    await page.waitForFunction(() => document.querySelector('[data-testid="learning-curve"]')?.getAttribute('data-points') === '1');
    await screenshot(page, 'regression-03-model');

    // Back on the Label screen the queue is ranked by variance and the panel shows mean and 90% interval.
    await page.click(tid('tab-label'));
    await page.waitForSelector(`${tid('prediction-panel')}[data-has-prediction="true"]`);
    const name = await currentName(page);
    const mean = Number(await page.getAttribute(tid('predicted-value'), 'data-mean'));
    assert.ok(Number.isFinite(mean));
    assert.match((await page.textContent(tid('predicted-interval'))) ?? '', /90% interval -?\d+\.\d\d – -?\d+\.\d\d/);
    assert.match((await page.textContent(tid('queue-summary'))) ?? '', /ranked by model v1/);
    await screenshot(page, 'regression-04-prediction');
    assert.ok(truth.has(name));

    const db = new Database(path.join(projectDir, 'episteme.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const current = db.prepare("SELECT image_id AS imageId, value FROM current_labels WHERE kind = 'value' ORDER BY id").all() as { imageId: number; value: number }[];
      assert.deepEqual(current.map((c) => c.imageId), labelled);
      const paths = new Map((db.prepare('SELECT id, path FROM images').all() as { id: number; path: string }[]).map((r) => [r.id, path.basename(r.path)]));
      for (const c of current) assert.equal(c.value, truth.get(paths.get(c.imageId)!));
      assert.deepEqual((db.prepare('SELECT kind FROM label_events ORDER BY id DESC LIMIT 5').all() as { kind: string }[]).map((e) => e.kind), ['undo', 'skip', 'undo', 'skip', 'value']);
    } finally {
      db.close();
    }
    await guards.check(page);
  });
});
