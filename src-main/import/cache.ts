import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../db/project.ts';

/**
 * The decoded form of each image, written once at import: the model input (HWC uint8 at the
 * project's size), a display PNG, and for grayscale DICOM the modality values for window/level.
 * Files are named by the image's SHA-256, so the cache is shared by every path of the same bytes.
 */
export interface CachedViews {
  input: Uint8Array;
  preview: Buffer;
  modality?: { values: Float32Array; width: number; height: number };
  dicom?: { windowCenter: number; windowWidth: number; modality?: string; note?: string };
}

export type CacheFile = 'input' | 'preview' | 'modality' | 'meta';
const SUFFIX: Record<CacheFile, string> = { input: '.input.u8', preview: '.preview.png', modality: '.modality.f32', meta: '.meta.json' };

export function cachePath(project: Project, sha256: string, file: CacheFile): string {
  return path.join(project.cacheDir, sha256.slice(0, 2), sha256 + SUFFIX[file]);
}

/** Write-then-rename, so a crash never leaves a half-written file under the final name. */
export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temporary = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    fs.writeFileSync(temporary, data);
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

export function writeCachedViews(project: Project, sha256: string, views: CachedViews): void {
  writeFileAtomic(cachePath(project, sha256, 'preview'), views.preview);
  if (views.modality) {
    const { values } = views.modality;
    writeFileAtomic(cachePath(project, sha256, 'modality'), new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  const meta: CachedMeta = {
    modality: views.modality && { width: views.modality.width, height: views.modality.height },
    dicom: views.dicom ?? null,
    inputSha256: sha256Hex(views.input),
  };
  writeFileAtomic(cachePath(project, sha256, 'meta'), JSON.stringify(meta));
  // The input goes last: its presence marks the cache entry as complete.
  writeFileAtomic(cachePath(project, sha256, 'input'), views.input);
}

export function hasCachedViews(project: Project, sha256: string): boolean {
  return fs.existsSync(cachePath(project, sha256, 'input'));
}

export function readCachedInput(project: Project, sha256: string): Uint8Array {
  const bytes = fs.readFileSync(cachePath(project, sha256, 'input'));
  const { imageSize, channels } = project.meta;
  if (bytes.length !== imageSize * imageSize * channels) {
    throw new Error(`cached input of ${sha256} has ${bytes.length} bytes, expected ${imageSize * imageSize * channels}; run "episteme check"`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface CachedMeta {
  modality?: { width: number; height: number };
  dicom: CachedViews['dicom'] | null;
  /** Hash of the cached model input, so `episteme check` can tell a damaged cache file. */
  inputSha256?: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function readCachedMeta(project: Project, sha256: string): CachedMeta {
  try {
    return JSON.parse(fs.readFileSync(cachePath(project, sha256, 'meta'), 'utf8')) as CachedMeta;
  } catch {
    return { dicom: null };
  }
}

/** Inputs of many images stacked into one [N, H, W, C] uint8 array. */
export function stackInputs(project: Project, sha256s: string[]): Uint8Array {
  const { imageSize, channels } = project.meta;
  const stride = imageSize * imageSize * channels;
  const stacked = new Uint8Array(sha256s.length * stride);
  sha256s.forEach((sha, i) => stacked.set(readCachedInput(project, sha), i * stride));
  return stacked;
}
