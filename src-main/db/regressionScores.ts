import type { Database } from 'better-sqlite3';

/**
 * A regression model version's prediction for one image, in the target's units: the posterior mean,
 * the variance of the latent function (epistemic; the queue ranks by it) and the predictive variance
 * of a new label (latent + fitted noise variance).
 */
export interface RegressionScore {
  imageId: number;
  mean: number;
  latentVariance: number;
  predictiveVariance: number;
}

export function replaceRegressionScores(db: Database, modelVersionId: number, scores: RegressionScore[]): void {
  const insert = db.prepare(
    'INSERT OR REPLACE INTO regression_scores (model_version_id, image_id, mean, latent_variance, predictive_variance) VALUES (?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const s of scores) insert.run(modelVersionId, s.imageId, s.mean, s.latentVariance, s.predictiveVariance);
  })();
}

const SELECT = `SELECT image_id AS imageId, mean, latent_variance AS latentVariance, predictive_variance AS predictiveVariance
  FROM regression_scores`;

export function regressionScoresOf(db: Database, modelVersionId: number): RegressionScore[] {
  return db.prepare(`${SELECT} WHERE model_version_id = ?`).all(modelVersionId) as RegressionScore[];
}

export function regressionScoreOf(db: Database, modelVersionId: number, imageId: number): RegressionScore | undefined {
  return db.prepare(`${SELECT} WHERE model_version_id = ? AND image_id = ?`).get(modelVersionId, imageId) as RegressionScore | undefined;
}
