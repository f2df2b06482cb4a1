/**
 * A stopping signal for active learning, as a pure function of two consecutive model versions.
 *
 * - Stabilising predictions (Bloodgood & Vijay-Shanker, "A Method for Stopping Active Learning Based
 *   on Stabilizing Predictions", CoNLL 2009): the predicted classes of a fixed set of unlabelled
 *   images (the "stop set") barely change between consecutive models → more labels are unlikely to
 *   change the model much. Here: the fraction of images compared whose predicted class is unchanged,
 *   `agreement` ≥ `agreementThreshold` (default 0.99).
 * - Low epistemic uncertainty: even the most informative unlabelled image has a small BALD score
 *   (mutual information between its label and the weights, nats): `maxEpistemic` ≤
 *   `epistemicThreshold` (default 0.01) → the model expects to learn little from any single label.
 *
 * stop = either holds (with the reason saying which). Used by the simulator (stop set = the held-out
 * images, without their labels) and by the app (the pool scores stored with the last two model
 * versions, compared on the images unlabelled at both times).
 */

export interface ModelSnapshot {
  /** Ids of the stop-set images (image ids in the app, row indices in the simulator). */
  ids: ArrayLike<number>;
  /** Predicted class of each image, aligned with `ids`. */
  predicted: ArrayLike<number>;
  /**
   * Epistemic (BALD) score of the unlabelled images the next label could come from; null or absent
   * when the model has no epistemic uncertainty (a MAP point estimate).
   */
  epistemic?: ArrayLike<number> | null;
  /** Labels the model was trained on: when both snapshots give it and it did not grow, the comparison says nothing. */
  nLabels?: number;
}

export interface StoppingOptions {
  /** Default 0.99. */
  agreementThreshold?: number;
  /** Nats, default 0.01. */
  epistemicThreshold?: number;
  /** Fewest images both snapshots must share for `agreement` to count (default 20). */
  minCompared?: number;
}

export interface StoppingSignal {
  stop: boolean;
  reason: string;
  /** Fraction of the shared images whose predicted class is unchanged; null when too few are shared. */
  agreement: number | null;
  /** Largest epistemic score of `current`; null when it has none. */
  maxEpistemic: number | null;
}

export const STOPPING_DEFAULTS: Required<StoppingOptions> = { agreementThreshold: 0.99, epistemicThreshold: 0.01, minCompared: 20 };

function maxOf(values: ArrayLike<number> | null | undefined): number | null {
  if (!values || values.length === 0) return null;
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return Number.isFinite(m) ? m : null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The signal from the previous and the current model version (previous null: the first version). */
export function stoppingSignal(previous: ModelSnapshot | null, current: ModelSnapshot, options: StoppingOptions = {}): StoppingSignal {
  const { agreementThreshold, epistemicThreshold, minCompared } = { ...STOPPING_DEFAULTS, ...options };
  if (current.ids.length !== current.predicted.length) throw new Error(`stoppingSignal: ${current.ids.length} ids but ${current.predicted.length} predictions`);
  const maxEpistemic = maxOf(current.epistemic);

  let agreement: number | null = null;
  let compared = 0;
  const sameLabels = previous !== null && previous.nLabels !== undefined && current.nLabels !== undefined && current.nLabels <= previous.nLabels;
  if (previous) {
    if (previous.ids.length !== previous.predicted.length) throw new Error(`stoppingSignal: ${previous.ids.length} ids but ${previous.predicted.length} predictions`);
    const before = new Map<number, number>();
    for (let i = 0; i < previous.ids.length; i++) before.set(previous.ids[i], previous.predicted[i]);
    let same = 0;
    for (let i = 0; i < current.ids.length; i++) {
      const p = before.get(current.ids[i]);
      if (p === undefined) continue;
      compared++;
      if (p === current.predicted[i]) same++;
    }
    if (compared >= minCompared) agreement = same / compared;
  }

  const stable = agreement !== null && !sameLabels && agreement >= agreementThreshold;
  const certain = maxEpistemic !== null && maxEpistemic <= epistemicThreshold;
  const reasons: string[] = [];
  if (stable) reasons.push(`predictions stable: ${pct(agreement!)} of ${compared} unlabelled images kept their predicted class (threshold ${pct(agreementThreshold)})`);
  if (certain) reasons.push(`low epistemic uncertainty: the most informative unlabelled image has BALD ${maxEpistemic!.toFixed(4)} nats (threshold ${epistemicThreshold})`);
  if (reasons.length > 0) return { stop: true, reason: reasons.join('; '), agreement, maxEpistemic };

  let reason: string;
  if (!previous) reason = 'first model version: nothing to compare with yet';
  else if (agreement === null) reason = `too few unlabelled images shared by the two versions to compare (${compared}, need ${minCompared})`;
  else if (sameLabels) reason = 'no labels were added between the two versions';
  else reason = `predictions still changing: ${pct(agreement)} unchanged (threshold ${pct(agreementThreshold)})`;
  if (maxEpistemic !== null) reason += `; highest BALD ${maxEpistemic.toFixed(4)} nats`;
  return { stop: false, reason, agreement, maxEpistemic };
}

/** A snapshot from stored per-image scores (the app's `scoresOf`); `epistemic` dropped for point estimates. */
export function snapshotFromScores(
  scores: readonly { imageId: number; predicted: number; epistemic: number }[],
  options: { nLabels?: number; hasEpistemic?: boolean } = {},
): ModelSnapshot {
  return {
    ids: scores.map((s) => s.imageId),
    predicted: scores.map((s) => s.predicted),
    epistemic: options.hasEpistemic === false ? null : scores.map((s) => s.epistemic),
    nLabels: options.nLabels,
  };
}
