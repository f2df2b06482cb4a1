import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { listImages } from '../db/images.ts';
import { currentLabels, eventCounts } from '../db/labels.ts';
import type { Project } from '../db/project.ts';
import { writeFileAtomic } from '../import/cache.ts';
import { DeidentifyError } from '../imaging/deidentify.ts';
import { formatCsv } from '../util/csv.ts';
import { deidentifiedFile } from './deidentifyFile.ts';
import { safeName } from './safeName.ts';

export type ExportFormat = 'csv' | 'folders' | 'json';

export interface ExportRow {
  path: string;
  sha256: string;
  /** The class name, or for regression projects the number as text (so the CSV imports back with --labels). */
  label: string;
  /** Regression projects: the numeric label. */
  value?: number;
  annotator: string;
  labelledAt: string;
  labelEvents: number;
}

export interface ExportOptions {
  format: ExportFormat;
  force?: boolean;
  /**
   * folders only: DICOM written de-identified (PS3.15 basic profile, UIDs consistent within the
   * export), raster images re-encoded without metadata, files named by a keyed hash instead of their
   * original names. Makes the export asynchronous.
   */
  deidentify?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ExportResult {
  out: string;
  rows: number;
  files: number;
}

export class ExportError extends Error {}

/** One row per image whose current label is a class or a value (skipped and unsure images are not labelled). */
export function labelledRows(project: Project): ExportRow[] {
  const images = new Map(listImages(project.db).map((image) => [image.id, image]));
  const counts = eventCounts(project.db);
  return currentLabels(project.db)
    .filter((label) => label.kind === 'class' || label.kind === 'value')
    .map((label) => {
      const image = images.get(label.imageId)!;
      return {
        path: image.path,
        sha256: image.sha256,
        ...(label.kind === 'value' ? { label: String(label.value), value: label.value! } : { label: project.classes[label.classIdx!] }),
        annotator: label.annotator,
        labelledAt: label.createdAt,
        labelEvents: counts.get(label.imageId) ?? 0,
      };
    });
}

function prepareOutDir(out: string, force: boolean): string {
  const resolved = path.resolve(out);
  if (fs.existsSync(resolved)) {
    const stat = fs.lstatSync(resolved);
    if (!stat.isDirectory()) throw new ExportError(`${resolved} exists and is not a folder`);
    if (fs.readdirSync(resolved).length > 0 && !force) throw new ExportError(`${resolved} is not empty; choose an empty folder or use --force`);
  }
  fs.mkdirSync(resolved, { recursive: true });
  return fs.realpathSync(resolved);
}

/** Refuses any target that would resolve outside the export folder, symlinked folders included. */
function insideOut(outReal: string, ...parts: string[]): string {
  const target = path.join(outReal, ...parts);
  const parentReal = fs.realpathSync(path.dirname(target));
  const relative = path.relative(outReal, path.join(parentReal, path.basename(target)));
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new ExportError(`refusing to write ${target}: outside the export folder`);
  if (fs.existsSync(target) && fs.lstatSync(target).isSymbolicLink()) throw new ExportError(`refusing to write through the symbolic link ${target}`);
  return target;
}

function copyFileAtomic(source: string, target: string): void {
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    fs.copyFileSync(source, temporary, fs.constants.COPYFILE_EXCL);
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** Synchronous as before, except with `deidentify` (sharp re-encodes asynchronously): callers that pass it await the result. */
export function exportProject(project: Project, out: string, options: ExportOptions & { deidentify?: false }): ExportResult;
export function exportProject(project: Project, out: string, options: ExportOptions): ExportResult | Promise<ExportResult>;
export function exportProject(project: Project, out: string, options: ExportOptions): ExportResult | Promise<ExportResult> {
  if (project.meta.task === 'regression' && options.format === 'folders') {
    throw new ExportError('a regression project has no classes to make folders of: export it as csv or json (the value is in the label column)');
  }
  if (options.deidentify) return exportDeidentified(project, out, options);
  const rows = labelledRows(project);
  const outReal = prepareOutDir(out, options.force ?? false);
  const header = ['path', 'sha256', 'label', 'annotator', 'labelled_at', 'label_events'];
  const table = rows.map((r) => [r.path, r.sha256, r.label, r.annotator, r.labelledAt, r.labelEvents]);
  if (options.format === 'csv') {
    writeFileAtomic(insideOut(outReal, 'labels.csv'), formatCsv([header, ...table]));
    return { out: outReal, rows: rows.length, files: 1 };
  }
  if (options.format === 'json') {
    const document = {
      format: 'episteme-labels/1',
      exportedAt: new Date().toISOString(),
      project: { name: project.meta.name, imageSize: project.meta.imageSize, channels: project.meta.channels, createdAt: project.meta.createdAt, task: project.meta.task },
      ...(project.meta.task === 'regression' ? { target: project.meta.target } : { classes: project.classes }),
      rows,
    };
    writeFileAtomic(insideOut(outReal, 'labels.json'), JSON.stringify(document, null, 2));
    return { out: outReal, rows: rows.length, files: 1 };
  }
  const used = new Set<string>();
  let files = 0;
  for (const [i, row] of rows.entries()) {
    if (options.signal?.aborted) throw new ExportError('export cancelled');
    const folder = safeName(row.label);
    let name = safeName(path.basename(row.path));
    // Two source files with the same name in one class: keep both, told apart by their hash.
    if (used.has(`${folder}/${name}`)) name = safeName(`${row.sha256.slice(0, 12)}-${name}`);
    used.add(`${folder}/${name}`);
    fs.mkdirSync(insideOut(outReal, folder), { recursive: true });
    const target = insideOut(outReal, folder, name);
    if (fs.existsSync(target)) fs.rmSync(target);
    copyFileAtomic(row.path, target);
    files++;
    options.onProgress?.(i + 1, rows.length);
  }
  return { out: outReal, rows: rows.length, files };
}

async function exportDeidentified(project: Project, out: string, options: ExportOptions): Promise<ExportResult> {
  if (options.format !== 'folders') throw new ExportError('de-identification applies to the folders export: csv and json list the source paths');
  const rows = labelledRows(project);
  const kinds = new Map(listImages(project.db).map((image) => [image.sha256, image.kind]));
  const outReal = prepareOutDir(out, options.force ?? false);
  // One key per export: the same UID maps to the same new UID in all its files, and to another in the next export.
  const key = randomBytes(32);
  for (const [i, row] of rows.entries()) {
    if (options.signal?.aborted) throw new ExportError('export cancelled');
    const bytes = await fs.promises.readFile(row.path);
    if (createHash('sha256').update(bytes).digest('hex') !== row.sha256) throw new ExportError(`${row.path} changed since it was imported; import it again before exporting`);
    let file: { bytes: Buffer; ext: string };
    try {
      file = await deidentifiedFile(bytes, kinds.get(row.sha256)!, key);
    } catch (error) {
      if (error instanceof DeidentifyError) throw new ExportError(`${row.path} cannot be de-identified: ${error.message}`);
      throw error;
    }
    const folder = safeName(row.label);
    fs.mkdirSync(insideOut(outReal, folder), { recursive: true });
    // Original file names often carry patient names or record numbers.
    const name = `${createHmac('sha256', key).update(row.sha256).digest('hex').slice(0, 20)}${file.ext}`;
    writeFileAtomic(insideOut(outReal, folder, name), file.bytes);
    options.onProgress?.(i + 1, rows.length);
  }
  return { out: outReal, rows: rows.length, files: rows.length };
}
