/**
 * End to end in real Chromium against `bin/episteme serve`: create a project in the UI, import a folder
 * of synthetic images (and one broken file), name the annotator, label 20 images with the keyboard,
 * undo one, train, watch the queue reorder, export as CSV and as class folders, label 10 more and
 * see the queue re-ranked on its own. Checked in the page, in the project's SQLite database and in
 * the exported files.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, ensureRenderer, guard, launchChromium, screenshot, serve, type Guards, type Served } from './harness.ts';
import { writeShapes } from './images.ts';
import { createProject, currentName, jobMessage, queueRows, setAnnotator, shownImageId, tid, waitForAdvance, waitForJob } from './pageActions.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping the browser end-to-end test: ${skip}`);

describe('browser mode, end to end', { skip: skip ?? false, timeout: 600_000 }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let guards: Guards;
  const ANNOTATOR = 'Dr Ada Test';

  before(async () => {
    await ensureRenderer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-e2e-'));
    await writeShapes(path.join(work, 'images'), 30);
    fs.writeFileSync(path.join(work, 'images', 'broken.png'), Buffer.from('this is not a PNG at all'));
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

  const labelled: { imageId: number; classIdx: number }[] = [];
  let orderBefore: number[] = [];
  let undone: { imageId: number; classIdx: number };

  it('creates a project and imports a folder, showing the file that failed', async () => {
    const projectDir = path.join(work, 'projects', 'shapes');
    const imagesDir = path.join(work, 'images');

    const stranger = await browser.newPage();
    assert.equal((await stranger.goto(server.origin))?.status(), 401, 'a page without the launch token is refused');
    assert.match((await stranger.textContent('body')) ?? '', /address printed in the terminal/);
    await stranger.close();

    await page.goto(server.url);
    await page.waitForSelector(tid('home-screen'));
    assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
    await screenshot(page, 'e2e-01-home');

    // New project, with the folder browser used once to pick the import folder.
    await createProject(page, { name: 'Shapes', dir: projectDir, classes: ['disc', 'stripes'], size: 28 });
    assert.deepEqual(await page.locator(`${tid('np-class-chips')} .MuiChip-label`).allTextContents(), ['1 · disc', '2 · stripes']);
    await page.fill(tid('np-import'), work);
    await page.locator(tid('new-project-dialog')).getByRole('button', { name: 'Browse' }).nth(1).click();
    await page.waitForSelector(tid('folder-browser'));
    await page.locator(tid('folder-entry'), { hasText: 'images' }).click();
    await page.waitForFunction(() => /61 image files/.test(document.querySelector('[data-testid="folder-image-count"]')?.textContent ?? ''));
    await screenshot(page, 'e2e-02-folder-browser');
    await page.click(tid('folder-pick'));
    assert.equal(await page.inputValue(tid('np-import')), imagesDir);
    await screenshot(page, 'e2e-03-new-project');
    await page.click(tid('np-create'));

    // Import job: progress, then the summary with the broken file and why it failed.
    await page.waitForSelector(tid('import-dialog'));
    assert.equal(await waitForJob(page, 'import-progress', 120_000), 'succeeded');
    await page.waitForSelector(tid('import-summary'));
    assert.equal(await page.textContent(tid('import-added')), '60');
    assert.equal(await page.textContent(tid('import-failed-count')), '1');
    const failure = (await page.textContent(tid('import-failures'))) ?? '';
    assert.match(failure, /broken\.png/);
    await screenshot(page, 'e2e-04-import-done');
    await page.click(tid('import-close'));
  });

  it('asks the annotator once, labels 20 images with the keyboard and undoes one', async () => {
    const projectDir = path.join(work, 'projects', 'shapes');
    // The annotator's name is asked once.
    await page.waitForSelector(tid('annotator-dialog'));
    await screenshot(page, 'e2e-05-annotator');
    await setAnnotator(page, ANNOTATOR);
    await page.waitForFunction((name) => document.querySelector('[data-testid="annotator-chip"]')?.textContent?.includes(name), ANNOTATOR);

    // Labelling screen: status counts, queue, zoom.
    await page.waitForSelector(tid('label-screen'));
    await page.waitForFunction(() => document.querySelector('[data-testid="status-total"]')?.textContent === '60');
    let imageId = await shownImageId(page);
    await page.keyboard.press('+');
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="image-viewer"]')?.dataset.zoom) > 1);
    await page.keyboard.press('0');
    await screenshot(page, 'e2e-06-label-no-model');
    orderBefore = (await queueRows(page)).map((r) => r.imageId);
    assert.ok(orderBefore.length >= 10, `the queue shows rows (${orderBefore.length})`);
    assert.equal(orderBefore[0], imageId, 'the first queue row is the image shown');

    // Label 20 images with the keyboard, each by its true class.
    for (let i = 0; i < 20; i++) {
      imageId = await shownImageId(page);
      const name = await currentName(page);
      const classIdx = name.startsWith('disc_') ? 0 : name.startsWith('stripes_') ? 1 : -1;
      assert.notEqual(classIdx, -1, `unexpected image ${name}`);
      await page.keyboard.press(String(classIdx + 1));
      labelled.push({ imageId, classIdx });
      await waitForAdvance(page, imageId);
    }
    assert.equal(new Set(labelled.map((l) => l.imageId)).size, 20, 'twenty different images were offered');

    // Ctrl+Z undoes the last label and offers that image again.
    await page.keyboard.press('Control+z');
    undone = labelled[labelled.length - 1];
    await page.waitForFunction((id) => document.querySelector<HTMLElement>('[data-testid="current-name"]')?.dataset.imageId === String(id), undone.imageId);
    await page.waitForFunction(() => document.querySelector('[data-testid="status-labelled"]')?.textContent === '19');
    assert.equal(await page.textContent(tid('status-unlabelled')), '41');

    // The stored labels: 19 current class labels, 21 events (20 labels and the undo), all with context.
    const db = new Database(path.join(projectDir, 'episteme.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const current = db.prepare("SELECT image_id AS imageId, class_idx AS classIdx FROM current_labels WHERE kind = 'class' ORDER BY image_id").all() as { imageId: number; classIdx: number }[];
      assert.equal(current.length, 19);
      const expected = labelled.slice(0, 19).sort((a, b) => a.imageId - b.imageId);
      assert.deepEqual(current, expected, 'each stored label is the class pressed for that image');
      const events = db.prepare('SELECT kind, image_id AS imageId, annotator, ms_spent AS msSpent, model_version_id AS modelVersionId, acquisition, acquisition_score AS score, undoes_event_id AS undoes FROM label_events ORDER BY id').all() as {
        kind: string;
        imageId: number;
        annotator: string;
        msSpent: number | null;
        modelVersionId: number | null;
        acquisition: string | null;
        score: number | null;
        undoes: number | null;
      }[];
      assert.equal(events.length, 21);
      assert.deepEqual(events.map((e) => e.kind), [...Array(20).fill('class'), 'undo']);
      assert.equal(events[20].imageId, undone.imageId);
      assert.equal(events[20].undoes, 20, 'the undo points at the 20th label event');
      for (const e of events) assert.equal(e.annotator, ANNOTATOR);
      for (const e of events.slice(0, 20)) {
        assert.ok(e.msSpent !== null && Number.isInteger(e.msSpent) && e.msSpent >= 0, `ms spent recorded (${e.msSpent})`);
        assert.equal(e.acquisition, 'random', 'without a model the queue is in random order, and so recorded');
        assert.equal(e.modelVersionId, null, 'no model existed while labelling');
        assert.equal(e.score, null, 'no model, so no acquisition score to record');
      }
    } finally {
      db.close();
    }

  });

  it('trains a model (3 epochs) and the queue is reordered by it, with scores', async () => {
    // Train a model (3 epochs) from the Model tab.
    await page.click(tid('tab-model'));
    await page.waitForSelector(tid('train-panel'));
    await page.fill(tid('train-epochs'), '3');
    await page.click(tid('train-button'));
    await page.waitForSelector(tid('train-progress'));
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="train-progress"]')?.dataset.status !== 'starting');
    await screenshot(page, 'e2e-07-training');
    const trained = await waitForJob(page, 'train-progress', 300_000);
    if (trained !== 'succeeded') await screenshot(page, 'e2e-07b-training-failed');
    assert.equal(trained, 'succeeded', `training ended "${trained}": ${await jobMessage(page, 'train-progress')}`);
    await page.waitForSelector(`${tid('version-row')}[data-version-id="1"]`);
    await page.waitForSelector(`${tid('reliability-diagram')} svg`);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="learning-curve"]')?.dataset.points) >= 1);
    const versionRow = (await page.textContent(tid('version-row'))) ?? '';
    assert.match(versionRow, /v1/);
    assert.match(versionRow, /19/, 'the version was trained on 19 labels');
    await screenshot(page, 'e2e-08-model');

    // Back to labelling: the queue is now ranked by the model (BALD, highest first) and shows scores.
    await page.click(tid('tab-label'));
    await page.waitForFunction(() => /ranked by model v1/.test(document.querySelector('[data-testid="queue-summary"]')?.textContent ?? ''));
    await shownImageId(page);
    const ranked = await queueRows(page);
    assert.ok(ranked.every((r) => r.score !== null && Number.isFinite(r.score)), 'every row has a score');
    for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].score! >= ranked[i].score!, 'BALD order is by descending score');
    const orderAfter = ranked.map((r) => r.imageId);
    assert.notDeepEqual(orderAfter.slice(0, 10), orderBefore.filter((id) => !labelled.slice(0, 19).some((l) => l.imageId === id)).slice(0, 10), 'training reordered the queue');
    assert.equal(await page.getAttribute(tid('prediction-panel'), 'data-has-prediction'), 'true');
    assert.equal(await page.locator(tid('probability-row')).count(), 2);
    assert.match((await page.textContent(tid('epistemic'))) ?? '', /epistemic \d/);
    assert.match((await page.textContent(tid('queue-score'))) ?? '', /score \d/);
    await screenshot(page, 'e2e-09-label-ranked');

    // Another acquisition function reorders the same pool: margin, smallest first.
    await page.click(`${tid('acquisition-select')} [role="combobox"]`);
    await page.click(tid('acquisition-margin'));
    await page.waitForFunction(
      (before) => {
        const first = document.querySelector<HTMLElement>('[data-testid="queue-row"][aria-posinset="1"]');
        return first && first.dataset.imageId !== String(before);
      },
      orderAfter[0],
      { timeout: 15_000 },
    ).catch(() => undefined);
    const byMargin = await queueRows(page);
    for (let i = 1; i < byMargin.length; i++) assert.ok(byMargin[i - 1].score! <= byMargin[i].score!, 'margin order is by ascending score');
    await page.click(`${tid('acquisition-select')} [role="combobox"]`);
    await page.click(tid('acquisition-bald'));
  });

  it('exports CSV and class folders (refused into a non-empty folder without force)', async () => {
    const imagesDir = path.join(work, 'images');
    await page.click(tid('tab-label'));
    // Export as CSV, then as class folders into the same (now non-empty) folder: refused without force.
    const exportDir = path.join(work, 'export');
    await page.click(tid('export-button'));
    await page.waitForSelector(tid('export-dialog'));
    await page.fill(tid('export-out'), exportDir);
    await page.check(tid('export-format-csv'));
    await page.click(tid('export-start'));
    assert.equal(await waitForJob(page, 'export-progress', 60_000), 'succeeded');
    assert.match((await page.textContent(tid('export-result'))) ?? '', /Exported 19 labels/);
    await screenshot(page, 'e2e-10-export-csv');
    await page.check(tid('export-format-folders'));
    await page.click(tid('export-start'));
    assert.equal(await waitForJob(page, 'export-progress', 60_000), 'failed');
    assert.match((await page.textContent(tid('export-dialog'))) ?? '', /not empty/);
    await page.check(tid('export-force'));
    await page.click(tid('export-start'));
    assert.equal(await waitForJob(page, 'export-progress', 60_000), 'succeeded');
    assert.match((await page.textContent(tid('export-result'))) ?? '', /Exported 19 labels \(19 files\)/);
    await screenshot(page, 'e2e-11-export-folders');
    await page.click(tid('export-close'));

    // The exported files.
    const csv = fs.readFileSync(path.join(exportDir, 'labels.csv'), 'utf8').trim().split(/\r?\n/);
    assert.equal(csv[0], 'path,sha256,label,annotator,labelled_at,label_events');
    assert.equal(csv.length, 20, 'header and 19 rows');
    for (const line of csv.slice(1)) {
      const file = line.split(',')[0].replace(/^"|"$/g, '');
      const label = line.split(',')[2];
      assert.equal(label, path.basename(file).split('_')[0], `${file} exported as ${label}`);
    }
    const discs = fs.readdirSync(path.join(exportDir, 'disc'));
    const stripes = fs.readdirSync(path.join(exportDir, 'stripes'));
    assert.equal(discs.length + stripes.length, 19);
    assert.ok(discs.every((f) => f.startsWith('disc_')) && stripes.every((f) => f.startsWith('stripes_')), 'every file is in its class folder');
    assert.deepEqual(fs.readFileSync(path.join(exportDir, 'disc', discs[0])), fs.readFileSync(path.join(imagesDir, discs[0])), 'exported files are copies');

  });

  it('re-ranks the queue by itself after 10 more class labels (queue.rerank on the cached features)', async () => {
    await page.click(tid('tab-label'));
    for (let i = 0; i < 10; i++) {
      const imageId = await shownImageId(page);
      await page.keyboard.press((await currentName(page)).startsWith('disc_') ? '1' : '2');
      await waitForAdvance(page, imageId);
    }
    const note = await page.waitForFunction(() => {
      const text = document.querySelector('[data-testid="rerank-note"]')?.textContent ?? '';
      return /Queue re-ranked on \d+ labels · [\d.]+ s/.test(text) ? text : null;
    }, undefined, { timeout: 60_000 });
    assert.match(String(await note.jsonValue()), /on 29 labels/);
    await page.waitForFunction(() => /ranked by model v2/.test(document.querySelector('[data-testid="queue-summary"]')?.textContent ?? ''));
    await screenshot(page, 'e2e-12-reranked');
    assert.equal(await page.locator(tid('stopping-banner')).count(), 0, 'a re-rank beside its own base is no sign of convergence');
    const db = new Database(path.join(work, 'projects', 'shapes', 'episteme.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const v2 = db.prepare('SELECT method, hyper, n_labels AS nLabels FROM model_versions WHERE id = 2').get() as { method: string; hyper: string; nLabels: number };
      assert.equal(v2.method, 'last-layer');
      assert.equal(JSON.parse(v2.hyper).rerankOf, 1, 'a re-rank of the trained version');
      assert.equal(v2.nLabels, 29);
    } finally {
      db.close();
    }
  });

  it('made no request outside its origin, exposed no Node and logged no console error', async () => {
    await guards.check(page);
  });

  it('keeps the open project across a reload (#/project/<id>) and shows the recent project at home', async () => {
    await page.reload();
    await page.waitForSelector(tid('project-screen'));
    assert.equal(await page.textContent(tid('project-name')), 'Shapes');
    await page.click(tid('close-project'));
    await page.waitForSelector(tid('home-screen'));
    await page.waitForSelector(tid('recent-project'));
    assert.match((await page.textContent(tid('recent-projects'))) ?? '', /Shapes/);
    await screenshot(page, 'e2e-13-home-recent');
    await guards.check(page);
  });
});
