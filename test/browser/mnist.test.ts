/**
 * A second end-to-end run on real data: 200 MNIST test digits written as PNG, ten classes (digit 9 has
 * no 1–9 shortcut and is labelled with its button), 40 labels, a model, the ranked queue, a JSON
 * export. Uses ../shared/data/mnist-t10k; skipped with a message when it is missing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, ensureRenderer, guard, launchChromium, screenshot, serve, sharedDir, type Guards, type Served } from './harness.ts';
import { writeMnist } from './images.ts';
import { createProject, currentName, jobMessage, queueRows, setAnnotator, shownImageId, tid, waitForAdvance, waitForJob } from './pageActions.ts';

const shared = sharedDir();
const mnistDir = shared && path.join(shared, 'data', 'mnist-t10k');
const skip = browserSkipReason() ?? (mnistDir && fs.existsSync(path.join(mnistDir, 't10k-images-idx3-ubyte.gz')) ? null : 'shared/data/mnist-t10k is missing');
if (skip) console.log(`# skipping the MNIST browser test: ${skip}`);

const DIGITS = 200;
const LABELS = 40;

describe('browser mode on 200 MNIST digits', { skip: skip ?? false, timeout: 900_000 }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let guards: Guards;

  before(async () => {
    await ensureRenderer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-mnist-'));
    await writeMnist(mnistDir!, path.join(work, 'digits'), DIGITS);
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

  it('labels digits with the keyboard, trains, ranks and exports JSON', async () => {
    const projectDir = path.join(work, 'mnist-project');
    const classes = Array.from({ length: 10 }, (_, d) => String(d));
    await page.goto(server.url);
    await page.waitForSelector(tid('home-screen'));
    await createProject(page, { name: 'MNIST digits', dir: projectDir, classes, size: 28, importDir: path.join(work, 'digits') });
    await page.click(tid('np-create'));
    assert.equal(await waitForJob(page, 'import-progress', 180_000), 'succeeded');
    assert.equal(await page.textContent(tid('import-added')), String(DIGITS));
    assert.equal(await page.textContent(tid('import-failed-count')), '0');
    await page.click(tid('import-close'));
    await setAnnotator(page, 'Digit Reader');
    await page.waitForFunction((n) => document.querySelector('[data-testid="status-total"]')?.textContent === String(n), DIGITS);

    const buttons = await page.locator(`${tid('class-buttons')} [data-testid^="class-button-"]`).allTextContents();
    assert.equal(buttons.length, 10);
    assert.equal(buttons[0], '10', 'digit 0 is on key 1');
    assert.equal(buttons[9], '9', 'digit 9 has no shortcut key');
    await shownImageId(page);
    await screenshot(page, 'mnist-01-label');

    const labelled: { imageId: number; classIdx: number }[] = [];
    for (let i = 0; i < LABELS; i++) {
      const imageId = await shownImageId(page);
      const digit = Number(/^digit(\d)_/.exec(await currentName(page))![1]);
      if (digit < 9) await page.keyboard.press(String(digit + 1));
      else await page.click(tid('class-button-9'));
      labelled.push({ imageId, classIdx: digit });
      await waitForAdvance(page, imageId);
    }
    await page.waitForFunction((n) => document.querySelector('[data-testid="status-labelled"]')?.textContent === String(n), LABELS);

    await page.click(tid('tab-model'));
    await page.fill(tid('train-epochs'), '5');
    await page.click(tid('train-button'));
    const trained = await waitForJob(page, 'train-progress', 600_000);
    assert.equal(trained, 'succeeded', `training ended "${trained}": ${await jobMessage(page, 'train-progress')}`);
    await page.waitForSelector(`${tid('reliability-diagram')} svg`);
    await screenshot(page, 'mnist-02-model');

    await page.click(tid('tab-label'));
    await page.waitForFunction(() => /ranked by model v1/.test(document.querySelector('[data-testid="queue-summary"]')?.textContent ?? ''));
    await shownImageId(page);
    const rows = await queueRows(page);
    assert.ok(rows.length > 5);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].score! >= rows[i].score!, 'BALD order is by descending score');
    assert.equal(await page.locator(tid('probability-row')).count(), 10);
    await screenshot(page, 'mnist-03-ranked');

    // Label one more from the ranked queue: the event records the model version, acquisition and score.
    const top = rows[0];
    const imageId = await shownImageId(page);
    assert.equal(imageId, top.imageId);
    const digit = Number(/^digit(\d)_/.exec(await currentName(page))![1]);
    if (digit < 9) await page.keyboard.press(String(digit + 1));
    else await page.click(tid('class-button-9'));
    await waitForAdvance(page, imageId);

    const exportDir = path.join(work, 'export-json');
    await page.click(tid('export-button'));
    await page.fill(tid('export-out'), exportDir);
    await page.check(tid('export-format-json'));
    await page.click(tid('export-start'));
    assert.equal(await waitForJob(page, 'export-progress', 60_000), 'succeeded');
    await page.click(tid('export-close'));

    const doc = JSON.parse(fs.readFileSync(path.join(exportDir, 'labels.json'), 'utf8')) as { classes: string[]; rows: { path: string; label: string }[] };
    assert.deepEqual(doc.classes, classes);
    assert.equal(doc.rows.length, LABELS + 1);
    for (const row of doc.rows) assert.equal(row.label, /digit(\d)_/.exec(path.basename(row.path))![1]);

    const db = new Database(path.join(projectDir, 'episteme.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const last = db.prepare('SELECT image_id AS imageId, class_idx AS classIdx, model_version_id AS mv, acquisition, acquisition_score AS score FROM label_events ORDER BY id DESC LIMIT 1').get() as {
        imageId: number;
        classIdx: number;
        mv: number;
        acquisition: string;
        score: number;
      };
      assert.deepEqual({ imageId: last.imageId, classIdx: last.classIdx, mv: last.mv, acquisition: last.acquisition }, { imageId: top.imageId, classIdx: digit, mv: 1, acquisition: 'bald' });
      assert.ok(Math.abs(last.score - top.score!) < 1e-9, 'the BALD score shown is the one recorded');
      const stored = db.prepare("SELECT image_id AS imageId, class_idx AS classIdx FROM current_labels WHERE kind = 'class' ORDER BY image_id").all();
      assert.deepEqual(stored, [...labelled, { imageId: top.imageId, classIdx: digit }].sort((a, b) => a.imageId - b.imageId));
    } finally {
      db.close();
    }
    await guards.check(page);
  });
});
