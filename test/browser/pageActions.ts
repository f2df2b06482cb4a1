/** What a person does in the UI, as steps the browser tests share. */
import type { Page } from 'playwright-core';

export const tid = (id: string) => `[data-testid="${id}"]`;

/** The image id currently offered for labelling, once its picture is on screen. */
export async function shownImageId(page: Page, timeout = 30_000): Promise<number> {
  const handle = await page.waitForFunction(
    () => {
      const id = document.querySelector<HTMLElement>('[data-testid="current-name"]')?.dataset.imageId;
      if (!id) return null;
      const shown = document.querySelector(`[data-testid="current-image"][data-image-id="${id}"], [data-testid="dicom-canvas"]`);
      return shown ? Number(id) : null;
    },
    undefined,
    { timeout },
  );
  return (await handle.jsonValue()) as number;
}

export async function currentName(page: Page): Promise<string> {
  return (await page.locator(tid('current-name')).textContent())?.trim() ?? '';
}

/** Waits until the offered image is another one than `previous`. */
export async function waitForAdvance(page: Page, previous: number): Promise<void> {
  await page.waitForFunction((prev) => document.querySelector<HTMLElement>('[data-testid="current-name"]')?.dataset.imageId !== String(prev), previous, { timeout: 30_000 });
}

/** The rendered queue rows in list order: image id and score. */
export async function queueRows(page: Page): Promise<{ imageId: number; score: number | null }[]> {
  return page.$$eval('[data-testid="queue-row"]', (rows) =>
    rows
      .map((row) => ({
        pos: Number(row.getAttribute('aria-posinset')),
        imageId: Number((row as HTMLElement).dataset.imageId),
        score: (row as HTMLElement).dataset.score === '' ? null : Number((row as HTMLElement).dataset.score),
      }))
      .sort((a, b) => a.pos - b.pos)
      .map(({ imageId, score }) => ({ imageId, score })),
  );
}

/** New project dialog: name, folder, classes, input size; optionally a folder to import. */
export async function createProject(page: Page, p: { name: string; dir: string; classes: string[]; size: 28 | 64 | 128 | 224; importDir?: string }): Promise<void> {
  await page.click(tid('home-new'));
  await page.fill(tid('np-name'), p.name);
  await page.fill(tid('np-dir'), p.dir);
  await page.fill(tid('np-classes'), p.classes.join(', '));
  await page.press(tid('np-classes'), 'Enter');
  await page.click(tid(`np-size-${p.size}`));
  if (p.importDir) await page.fill(tid('np-import'), p.importDir);
}

/** The status line under a job progress bar (e.g. the error of a failed job). */
export async function jobMessage(page: Page, testId: string): Promise<string> {
  return (await page.textContent(`[data-testid="${testId}-message"]`))?.trim() ?? '';
}

/** Waits for a job progress block to finish and returns its final status. */
export async function waitForJob(page: Page, testId: string, timeout: number): Promise<string> {
  const handle = await page.waitForFunction(
    (id) => {
      const status = document.querySelector<HTMLElement>(`[data-testid="${id}"]`)?.dataset.status;
      return status && status !== 'running' && status !== 'starting' ? status : null;
    },
    testId,
    { timeout },
  );
  return (await handle.jsonValue()) as string;
}

export async function setAnnotator(page: Page, name: string): Promise<void> {
  await page.waitForSelector(tid('annotator-dialog'));
  await page.fill(tid('annotator-name'), name);
  await page.click(tid('annotator-save'));
  await page.waitForSelector(tid('annotator-dialog'), { state: 'detached' });
}
