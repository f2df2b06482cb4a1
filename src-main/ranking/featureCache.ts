/**
 * Penultimate features of every image a model version saw (train, held-out and pool), written when
 * the version is trained, so the interactive re-rank refits only the Bayesian last layer.
 *
 * One file per version, `cache/features/v<id>.bin`, little-endian: the magic "EPFEAT01", N and D
 * (uint32), the image ids (int32 [N]), then the features (float32 [N, D], row-major). Written with
 * write-then-rename, so a reader sees a whole file or none; a cache, so backups need not keep it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../db/project.ts';
import { writeFileAtomic } from '../import/cache.ts';

const MAGIC = 'EPFEAT01';
const HEADER_BYTES = 16;

export interface CachedFeatures {
  /** Image ids [N], row r of `features` belongs to imageIds[r]. */
  imageIds: Int32Array;
  /** [N, dim] row-major. */
  features: Float32Array;
  dim: number;
}

export class FeatureCacheError extends Error {}

export function featuresPath(project: Project, modelVersionId: number): string {
  return path.join(project.cacheDir, 'features', `v${modelVersionId}.bin`);
}

export function writeCachedFeatures(project: Project, modelVersionId: number, cached: CachedFeatures): void {
  const n = cached.imageIds.length;
  const { dim } = cached;
  if (!(Number.isInteger(dim) && dim >= 1)) throw new FeatureCacheError(`feature dimension must be a positive integer, got ${dim}`);
  if (cached.features.length !== n * dim) throw new FeatureCacheError(`features must be [${n}, ${dim}], got ${cached.features.length} values`);
  const bytes = new Uint8Array(HEADER_BYTES + 4 * n + 4 * n * dim);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, n, true);
  view.setUint32(12, dim, true);
  new Int32Array(bytes.buffer, HEADER_BYTES, n).set(cached.imageIds);
  new Float32Array(bytes.buffer, HEADER_BYTES + 4 * n, n * dim).set(cached.features);
  writeFileAtomic(featuresPath(project, modelVersionId), bytes);
}

/** The cached features of a version, or null when there are none (e.g. trained before the cache existed). */
export function readCachedFeatures(project: Project, modelVersionId: number): CachedFeatures | null {
  const file = featuresPath(project, modelVersionId);
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const damaged = (why: string) => new FeatureCacheError(`cached features of model version ${modelVersionId} are damaged (${why}); train again to rebuild them`);
  if (raw.length < HEADER_BYTES || raw.toString('latin1', 0, MAGIC.length) !== MAGIC) throw damaged('bad header');
  const n = raw.readUInt32LE(8);
  const dim = raw.readUInt32LE(12);
  if (dim < 1 || raw.length !== HEADER_BYTES + 4 * n + 4 * n * dim) throw damaged(`${raw.length} bytes for ${n} × ${dim}`);
  // Copy into an aligned buffer: typed-array views need 4-byte alignment.
  const body = new ArrayBuffer(raw.length - HEADER_BYTES);
  new Uint8Array(body).set(raw.subarray(HEADER_BYTES));
  return { imageIds: new Int32Array(body, 0, n), features: new Float32Array(body, 4 * n, n * dim), dim };
}

/**
 * Caches the features a training run returned (train, held-out and pool rows, in that order, for
 * `imageIds` in the same order). The version is already saved: a failure here only costs the
 * re-rank its cache (it then asks for a retrain), so it is reported rather than thrown.
 */
export function cacheTrainingFeatures(
  project: Project,
  modelVersionId: number,
  imageIds: number[],
  parts: { dim: number; train: Float32Array; heldOut: Float32Array; pool: Float32Array },
): void {
  const features = new Float32Array(parts.train.length + parts.heldOut.length + parts.pool.length);
  features.set(parts.train, 0);
  features.set(parts.heldOut, parts.train.length);
  features.set(parts.pool, parts.train.length + parts.heldOut.length);
  try {
    writeCachedFeatures(project, modelVersionId, { imageIds: Int32Array.from(imageIds), features, dim: parts.dim });
  } catch (error) {
    console.error(`[episteme] could not cache the features of model version ${modelVersionId} (re-rank needs a retrain):`, error);
  }
}
