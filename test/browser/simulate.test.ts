/**
 * The Simulate tab in real Chromium against `bin/episteme serve <project>`: a short benchmark on a
 * generated image folder ends with its table, learning curves and output files; a long one is
 * cancelled and the service's job really ends 'cancelled'; a data set that does not exist shows the
 * job's error and leaves the form usable.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { initProject } from '../../src-main/db/project.ts';
import type { Envelope, JobStateT } from '../../src-main/service/contract.ts';
import { formatCsv } from '../../src-main/util/csv.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { browserSkipReason, ensureRenderer, guard, launchChromium, screenshot, serve, type Guards, type Served } from './harness.ts';
import { jobMessage, setAnnotator, tid, waitForJob } from './pageActions.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping the browser simulate test: ${skip}`);

/** 30 small PNGs of two classes and their labels.csv (24 in the pool, 6 held out), and held-out.csv naming 8 of them. */
async function writeLabelledFolder(dir: string): Promise<void> {
  const images = await writeTwoClassPngs(dir, 15, 11, 28);
  const rows = images.map((i) => [path.basename(i.file), i.label]);
  fs.writeFileSync(path.join(dir, 'labels.csv'), formatCsv([['path', 'label'], ...rows]));
  fs.writeFileSync(path.join(dir, 'held-out.csv'), formatCsv([['path', 'label'], ...rows.slice(0, 4), ...rows.slice(-4)]));
}

async function fillOptions(page: Page, options: { dataset: string; initial: number; step: number; rounds: number; seeds: number; epochs: number; out?: string }): Promise<void> {
  await page.fill(tid('sim-dataset'), options.dataset);
  for (const key of ['initial', 'step', 'rounds', 'seeds', 'epochs'] as const) await page.fill(tid(`sim-${key}`), String(options[key]));
  await page.fill(tid('sim-out'), options.out ?? '');
}

/** Picks `value` in the MUI select marked `testId`. */
async function choose(page: Page, testId: string, value: string | number): Promise<void> {
  await page.click(`${tid(testId)} [role="combobox"]`);
  await page.click(`li[role="option"][data-value="${value}"]`);
  await page.waitForSelector('[role="listbox"]', { state: 'detached' });
}

describe('the Simulate tab in the browser', { skip: skip ?? false, timeout: 180_000 }, () => {
  let work: string;
  let dataset: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let guards: Guards;

  /** The job as the service sees it, not as the page shows it. */
  async function serviceJob(jobId: string): Promise<JobStateT> {
    const response = await fetch(`${server.origin}/api/job.get`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify({ jobId }) });
    const envelope = (await response.json()) as Envelope<JobStateT>;
    assert.ok(envelope.ok, JSON.stringify(envelope));
    return envelope.value;
  }

  before(async () => {
    await ensureRenderer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-simulate-'));
    dataset = path.join(work, 'labelled');
    await writeLabelledFolder(dataset);
    initProject(path.join(work, 'project'), { classes: ['bars', 'rings'], imageSize: 28 }).close();
    server = await serve({ home: path.join(work, 'home'), dir: path.join(work, 'project') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    guards = guard(page, server.origin);
    await page.goto(server.url);
    await setAnnotator(page, 'Dr Sim');
    await page.click(tid('tab-simulate'));
    await page.waitForSelector(tid('simulate-form'));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work && !process.env.KEEP_TEST_OUTPUT) fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs a short simulation and shows the table, one learning curve per acquisition and the output folder', async () => {
    // bald and random are ticked by default; compare bald with entropy instead.
    assert.ok(await page.isChecked(tid('sim-acq-bald')));
    assert.ok(await page.isChecked(tid('sim-acq-random')));
    await page.click(tid('sim-acq-random'));
    await page.click(tid('sim-acq-entropy'));
    const out = path.join(work, 'sim-out');
    await fillOptions(page, { dataset, initial: 4, step: 4, rounds: 2, seeds: 1, epochs: 1, out });
    // The data and protocol options reach the service: summary.json records the options as run.
    await page.fill(tid('sim-testCsv'), path.join(dataset, 'held-out.csv'));
    await page.fill(tid('sim-samples'), '3');
    await page.fill(tid('sim-seed'), '7');
    await page.fill(tid('sim-poolSize'), '20');
    await page.fill(tid('sim-poolSubset'), '9');
    await page.fill(tid('sim-priorPrecision'), '2.5');
    await choose(page, 'sim-prior', 'laplace');
    await page.fill(tid('sim-untilAccuracy'), '150');
    assert.match((await page.textContent(`${tid('simulate-form')} .MuiFormHelperText-root.Mui-error`)) ?? '', /percentage above 0, at most 100/);
    assert.ok(await page.isDisabled(tid('sim-start')), 'an accuracy above 100% is refused before starting');
    await page.fill(tid('sim-untilAccuracy'), '');
    await page.click(tid('sim-start'));

    // While it runs: the job's own message under the bar, and Cancel offered.
    await page.waitForFunction(() => /seed 1\/1/.test(document.querySelector('[data-testid="simulate-progress-message"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal(await waitForJob(page, 'simulate-progress', 90_000), 'succeeded');
    await page.waitForSelector(tid('simulate-results'));

    const rows = await page.$$eval('[data-testid="simulate-row"]', (trs) => trs.map((tr) => ({ acquisition: (tr as HTMLElement).dataset.acquisition, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '') })));
    assert.deepEqual(rows.map((r) => r.acquisition), ['bald', 'entropy']);
    for (const { cells } of rows) {
      assert.equal(cells.length, 5);
      assert.equal(cells[1], '1', 'one seed');
      for (const labels of cells.slice(2, 4)) assert.match(labels, /^(not reached|\d+ \[\d+–(\d+|∞)\])$/);
      assert.match(cells[4], /^\d+\.\d% \[\d+\.\d%–\d+\.\d%\]$/);
    }

    // The chart: one median line per acquisition over labels 4, 8, 12, each with its quartile band.
    const curve = tid('simulate-curve');
    assert.equal(await page.getAttribute(curve, 'data-series'), '2');
    assert.equal(await page.getAttribute(curve, 'data-points'), '3');
    const lines = await page.$$eval(`${curve} path.MuiLineChart-line`, (paths) => paths.filter((p) => getComputedStyle(p).display !== 'none').map((p) => p.getAttribute('data-series')));
    assert.deepEqual(lines.sort(), ['bald', 'entropy']);
    assert.equal(await page.locator(`${curve} path.MuiLineChart-area`).count(), 2, 'a q1–q3 band per acquisition');
    assert.deepEqual((await page.locator(`${curve} .MuiChartsLegend-root li`).allTextContents()).sort(), ['bald', 'entropy']);

    assert.match((await page.textContent(tid('simulate-out'))) ?? '', new RegExp(out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    for (const file of ['rounds.csv', 'summary.json', 'learning-curve.svg']) assert.ok(fs.existsSync(path.join(out, file)), file);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.deepEqual(
      { pool: summary.dataset.pool, test: summary.dataset.test, samples: summary.options.samples, seed: summary.options.seed, poolSubset: summary.options.poolSubset, priorPrecision: summary.options.priorPrecision, untilAccuracy: summary.options.untilAccuracy },
      { pool: 20, test: 8, samples: 3, seed: 7, poolSubset: 9, priorPrecision: 2.5, untilAccuracy: null },
    );
    assert.equal(summary.options.testCsv, path.join(dataset, 'held-out.csv'));
    assert.equal(summary.options.prior, 'laplace');
    await page.locator(curve).scrollIntoViewIfNeeded();
    await screenshot(page, 'simulate-01-results');
  });

  it('cancels a long simulation: the job ends cancelled, the rounds measured so far are shown, and the form is usable again', async () => {
    for (const key of ['testCsv', 'samples', 'seed', 'poolSize', 'poolSubset', 'priorPrecision']) await page.fill(tid(`sim-${key}`), '');
    await choose(page, 'sim-prior', 'gaussian');
    await fillOptions(page, { dataset, initial: 4, step: 2, rounds: 50, seeds: 3, epochs: 100 });
    await page.click(tid('sim-start'));
    await page.waitForSelector(tid('sim-cancel'));
    // Cancel once the first round is measured and the worker trains the next.
    await page.waitForFunction(() => /round 1\/50, training/.test(document.querySelector('[data-testid="simulate-progress-message"]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    await screenshot(page, 'simulate-02-running');
    const jobId = (await page.getAttribute(tid('simulate-progress'), 'data-job-id'))!;
    const t0 = Date.now();
    await page.click(tid('sim-cancel'));
    assert.equal(await waitForJob(page, 'simulate-progress', 15_000), 'cancelled');
    assert.ok(Date.now() - t0 < 10_000, 'cancel stops the job within seconds');
    assert.equal(await jobMessage(page, 'simulate-progress'), 'Cancelled');
    const job = await serviceJob(jobId);
    assert.equal(job.status, 'cancelled');
    assert.ok(job.finishedAt);
    assert.equal(await page.isVisible(tid('sim-cancel')), false);
    assert.ok(await page.isEnabled(tid('sim-start')));
    // The partial results: what the service kept, shown as such.
    assert.equal(job.result?.kind, 'simulate');
    if (job.result?.kind === 'simulate') {
      assert.equal(job.result.complete, false);
      assert.ok(job.result.rounds >= 1);
    }
    await page.waitForSelector(tid('simulate-partial'));
    await page.locator(tid('simulate-results')).scrollIntoViewIfNeeded();
    await screenshot(page, 'simulate-04-partial');
    assert.deepEqual(await page.$$eval('[data-testid="simulate-row"]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.acquisition)), ['bald'], 'only bald had finished a round');
  });

  it('shows the error of a data set that does not exist and keeps the form usable', async () => {
    await page.fill(tid('sim-dataset'), 'relative/folder');
    assert.ok(await page.isDisabled(tid('sim-start')), 'a relative path is refused before starting');
    assert.match((await page.textContent(`${tid('simulate-form')} .MuiFormHelperText-root.Mui-error`)) ?? '', /absolute path/);

    const missing = path.join(work, 'no-such-folder');
    await fillOptions(page, { dataset: missing, initial: 4, step: 4, rounds: 1, seeds: 1, epochs: 1 });
    await page.click(tid('sim-start'));
    await page.waitForSelector(tid('simulate-error'));
    const error = (await page.textContent(tid('simulate-error'))) ?? '';
    assert.match(error, /The simulation failed/);
    assert.match(error, /data set not found/);
    assert.ok(error.includes(missing), 'names the folder');
    await screenshot(page, 'simulate-03-error');

    assert.ok(await page.isEnabled(tid('sim-dataset')));
    assert.ok(await page.isEnabled(tid('sim-start')));
    await guards.check(page);
  });
});
