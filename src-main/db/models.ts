import type { Database } from 'better-sqlite3';

export interface Metrics {
  accuracy: number;
  top5?: number;
  nll: number;
  ece: number;
  brier: number;
  heldOut: number;
  reliability: { binLower: number; binUpper: number; confidence: number; accuracy: number; count: number }[];
}

/** Held-out metrics of a regression model version, in the target's units. */
export interface RegressionMetrics {
  rmse: number;
  mae: number;
  /** Mean Gaussian negative log predictive density of the held-out labels (noise included). */
  nll: number;
  /** Share of held-out labels inside the 90% predictive interval (ideally about 0.9). */
  coverage90: number;
  heldOut: number;
}

export interface ModelVersion {
  id: number;
  createdAt: string;
  method: string;
  hyper: Record<string, unknown>;
  backend: string;
  /** Classification metrics; null for regression versions and when there were fewer than 10 labels. */
  metrics: Metrics | null;
  regressionMetrics: RegressionMetrics | null;
  nLabels: number;
  trainSeconds: number;
  weightsFile: string;
}

interface ModelRow extends Omit<ModelVersion, 'hyper' | 'metrics' | 'regressionMetrics'> {
  hyper: string;
  metrics: string | null;
}

const SELECT_MODEL = `SELECT id, created_at AS createdAt, method, hyper, backend, metrics, n_labels AS nLabels,
  train_seconds AS trainSeconds, weights_file AS weightsFile FROM model_versions`;

function fromRow(row: ModelRow): ModelVersion {
  // One column holds either kind of metrics; regression metrics are told apart by their RMSE.
  const parsed = row.metrics ? (JSON.parse(row.metrics) as Metrics | RegressionMetrics) : null;
  const regression = parsed !== null && 'rmse' in parsed;
  return { ...row, hyper: JSON.parse(row.hyper), metrics: regression ? null : (parsed as Metrics | null), regressionMetrics: regression ? parsed : null };
}

export function insertModelVersion(
  db: Database,
  version: Omit<ModelVersion, 'id' | 'createdAt' | 'regressionMetrics'> & { regressionMetrics?: RegressionMetrics | null },
): ModelVersion {
  const metrics = version.metrics ?? version.regressionMetrics ?? null;
  const result = db
    .prepare(
      `INSERT INTO model_versions (created_at, method, hyper, backend, metrics, n_labels, train_seconds, weights_file)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      new Date().toISOString(),
      version.method,
      JSON.stringify(version.hyper),
      version.backend,
      metrics ? JSON.stringify(metrics) : null,
      version.nLabels,
      version.trainSeconds,
      version.weightsFile,
    );
  return getModelVersion(db, Number(result.lastInsertRowid))!;
}

export function getModelVersion(db: Database, id: number): ModelVersion | undefined {
  const row = db.prepare(`${SELECT_MODEL} WHERE id = ?`).get(id) as ModelRow | undefined;
  return row && fromRow(row);
}

export function listModelVersions(db: Database): ModelVersion[] {
  return (db.prepare(`${SELECT_MODEL} ORDER BY id`).all() as ModelRow[]).map(fromRow);
}

export function latestModelVersion(db: Database): ModelVersion | undefined {
  const row = db.prepare(`${SELECT_MODEL} ORDER BY id DESC LIMIT 1`).get() as ModelRow | undefined;
  return row && fromRow(row);
}

/** Per-image scores of one model version; probabilities as float32 [C]. */
export interface ImageScore {
  imageId: number;
  predicted: number;
  probsMean: Float32Array;
  probsLower: Float32Array;
  probsUpper: Float32Array;
  epistemic: number;
  aleatoric: number;
  entropy: number;
  margin: number;
  varRatios: number;
  meanStd: number;
}

const toBlob = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const fromBlob = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

export function replaceScores(db: Database, modelVersionId: number, scores: ImageScore[]): void {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO scores (model_version_id, image_id, predicted, probs_mean, probs_lower, probs_upper,
       epistemic, aleatoric, entropy, margin, var_ratios, mean_std) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const s of scores) {
      insert.run(modelVersionId, s.imageId, s.predicted, toBlob(s.probsMean), toBlob(s.probsLower), toBlob(s.probsUpper),
        s.epistemic, s.aleatoric, s.entropy, s.margin, s.varRatios, s.meanStd);
    }
  })();
}

type ScoreRow = Omit<ImageScore, 'probsMean' | 'probsLower' | 'probsUpper'> & { probsMean: Buffer; probsLower: Buffer; probsUpper: Buffer };

const SELECT_SCORE = `SELECT image_id AS imageId, predicted, probs_mean AS probsMean, probs_lower AS probsLower,
  probs_upper AS probsUpper, epistemic, aleatoric, entropy, margin, var_ratios AS varRatios, mean_std AS meanStd FROM scores`;

function scoreFromRow(row: ScoreRow): ImageScore {
  return { ...row, probsMean: fromBlob(row.probsMean), probsLower: fromBlob(row.probsLower), probsUpper: fromBlob(row.probsUpper) };
}

export function scoresOf(db: Database, modelVersionId: number): ImageScore[] {
  return (db.prepare(`${SELECT_SCORE} WHERE model_version_id = ?`).all(modelVersionId) as ScoreRow[]).map(scoreFromRow);
}

export function scoreOf(db: Database, modelVersionId: number, imageId: number): ImageScore | undefined {
  const row = db.prepare(`${SELECT_SCORE} WHERE model_version_id = ? AND image_id = ?`).get(modelVersionId, imageId) as ScoreRow | undefined;
  return row && scoreFromRow(row);
}
