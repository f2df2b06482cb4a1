/**
 * The Bayesian head of 'last-layer' on a features matrix, without the CNN: fitting (Laplace
 * softmax regression or closed-form Bayesian linear regression, see lastLayer.ts for the models
 * and references), its serialised state, and S weight draws in the stacked [D+1, S·C] layout.
 * `LastLayerPosterior` runs these on features it computes; the interactive re-rank
 * (src-main/ranking/rerank.ts) runs them on cached features.
 */
import {
  base64ToF64,
  blockEigenvalues,
  deserializeBlock,
  f64ToBase64,
  prepareBlock,
  serializeBlock,
  type CurvatureBlock,
  type CurvatureStructure,
  type PreparedBlock,
  type SerializedBlock,
} from '../laplace/curvature.ts';
import { blrSampleWeights, fitBlr, type BlrPosterior } from '../laplace/blr.ts';
import { fitLinearMap, linearForward, linearGgn, squaredNorm } from '../laplace/linear.ts';
import { laplaceLogMarginalLikelihood, optimizePriorPrecision } from '../laplace/marglik.ts';
import { sampleLinearWeights } from '../laplace/tensors.ts';
import { cholesky } from '../linalg/dense.ts';
import { yieldToEventLoop } from '../util/tensors.ts';

export interface LogisticHead {
  kind: 'logistic';
  /** W̃* [D+1, C]. */
  w: Float64Array;
  block: CurvatureBlock;
  priorPrecision: number;
  logLikelihood: number;
  logMarginalLikelihood: number;
  priorPrecisionOptimized: boolean;
  evidenceIterations: number;
  examples: number;
}

export interface LinearHead {
  kind: 'linear';
  blr: BlrPosterior;
  examples: number;
}

export type LastLayerHead = LogisticHead | LinearHead;

export interface HeadFitOptions {
  model: 'linear' | 'logistic';
  /** Logistic only (default 'kron'). */
  hessianStructure?: CurvatureStructure;
  /** τ (logistic) or α (linear); by evidence maximisation when undefined. */
  priorPrecision?: number;
  /** Logistic only: warm start of the MAP, W̃ [D+1, C] (the objective is convex: only speed changes). */
  init?: Float64Array;
}

/**
 * Fits the head on features Φ [N, D] (row-major) and labels y [N] in [0, C).
 * Logistic: MAP by L-BFGS, GGN block, τ by MacKay's evidence framework unless given.
 * Linear: Bishop §3.3 in closed form, α and β by evidence maximisation (α fixed when given).
 */
export async function fitLastLayerHead(phi: Float32Array, d: number, y: Int32Array, numClasses: number, opts: HeadFitOptions): Promise<LastLayerHead> {
  const n = y.length;
  const C = numClasses;
  if (phi.length !== n * d) throw new Error(`fitHead: features must be [${n}, ${d}]`);
  for (let i = 0; i < n; i++) if (!(Number.isInteger(y[i]) && y[i] >= 0 && y[i] < C)) throw new Error(`fitHead: label y[${i}] = ${y[i]} is not in [0, ${C})`);
  const f = { phi, n, d };
  if (opts.model === 'linear') {
    const T = new Float64Array(n * C);
    for (let r = 0; r < n; r++) T[r * C + y[r]] = 1;
    const tau = opts.priorPrecision;
    const blr = fitBlr(f, T, C, tau === undefined ? {} : { alpha: tau, fixAlpha: true });
    return { kind: 'linear', blr, examples: n };
  }
  const structure = opts.hessianStructure ?? 'kron';
  const targets = { likelihood: 'categorical' as const, labels: y };
  const fixed = opts.priorPrecision;
  let tau = fixed ?? 1;
  let map = fitLinearMap(f, targets, C, tau, opts.init ? { init: opts.init } : {});
  let block = linearGgn(f, linearForward(f, map.w, C), C, targets, structure);
  let iterations = 0;
  if (fixed === undefined) {
    // Evidence framework (MacKay 1992): τ must satisfy u = T(u), u = log τ, where
    // T(u) = log argmax_τ' LML(τ' | W̃*(τ), H(τ)) (the exact 1-D update at fixed W̃*). The plain
    // iteration u ← T(u) converges linearly; a secant step on h(u) = T(u) − u (safeguarded, with
    // the plain update as fallback) needs a few MAP refits only.
    const update = (m: typeof map, b: CurvatureBlock) =>
      Math.log(optimizePriorPrecision({ logLikelihood: m.logLikelihood, thetaSquaredNorm: squaredNorm(m.w), eigenvalues: blockEigenvalues(b) }, { lower: 1e-6, upper: 1e6 }).priorPrecision);
    let u = Math.log(tau);
    let h = update(map, block) - u;
    let uPrev = NaN;
    let hPrev = NaN;
    for (iterations = 1; iterations <= 20 && Math.abs(h) > 1e-3; iterations++) {
      let next = u + h; // plain fixed-point step
      if (Number.isFinite(uPrev) && h !== hPrev) {
        const secant = u - (h * (u - uPrev)) / (h - hPrev);
        // accept the secant step when it stays within a factor e³ of the fixed-point step
        if (Number.isFinite(secant) && Math.abs(secant - next) < 3) next = secant;
      }
      next = Math.min(Math.log(1e6), Math.max(Math.log(1e-6), next));
      uPrev = u;
      hPrev = h;
      u = next;
      tau = Math.exp(u);
      map = fitLinearMap(f, targets, C, tau, { init: map.w });
      block = linearGgn(f, linearForward(f, map.w, C), C, targets, structure);
      h = update(map, block) - u;
      await yieldToEventLoop();
    }
  }
  const eig = blockEigenvalues(block);
  const lml = laplaceLogMarginalLikelihood({ logLikelihood: map.logLikelihood, thetaSquaredNorm: squaredNorm(map.w), eigenvalues: eig }, tau);
  return {
    kind: 'logistic',
    w: map.w,
    block,
    priorPrecision: tau,
    logLikelihood: map.logLikelihood,
    logMarginalLikelihood: lml,
    priorPrecisionOptimized: fixed === undefined,
    evidenceIterations: iterations,
    examples: n,
  };
}

/** Σ^{1/2} transform of the logistic head's Laplace posterior (cache it: it costs an eigendecomposition). */
export function prepareLogisticHead(head: LogisticHead): PreparedBlock {
  return prepareBlock(head.block, head.priorPrecision);
}

/**
 * S weight draws W̃_s of the head as one Float32Array [D+1, S·C] (column s·C + c = class c of
 * sample s), the layout of `stackedLogits`; the same seed gives the same draws as the posterior's
 * own predictive. `prepared` is required for the logistic head.
 */
export function headWeightSamples(head: LastLayerHead, dA: number, numClasses: number, samples: number, seed: number, prepared?: PreparedBlock): Float32Array {
  if (head.kind === 'logistic') {
    if (!prepared) throw new Error('headWeightSamples: the logistic head needs its prepared block');
    return sampleLinearWeights(prepared, head.w, dA, numClasses, samples, seed);
  }
  const w = blrSampleWeights(head.blr, samples, seed);
  const out = new Float32Array(dA * samples * numClasses);
  for (let s = 0; s < samples; s++)
    for (let i = 0; i < dA; i++) for (let k = 0; k < numClasses; k++) out[i * samples * numClasses + s * numClasses + k] = w[(s * dA + i) * numClasses + k];
  return out;
}

/** JSON state of a head (the 'last-layer' posterior's serialised `state`). */
export function headState(head: LastLayerHead, seconds: number): Record<string, unknown> {
  if (head.kind === 'linear') {
    const b = head.blr;
    return {
      kind: 'linear',
      alpha: b.alpha,
      beta: b.beta,
      dA: b.dA,
      k: b.k,
      mean: f64ToBase64(b.mean),
      precision: f64ToBase64(b.precision),
      logEvidence: b.logEvidence,
      effectiveParameters: b.effectiveParameters,
      iterations: b.iterations,
      examples: head.examples,
      seconds,
    };
  }
  return {
    kind: 'logistic',
    w: f64ToBase64(head.w),
    block: serializeBlock(head.block),
    priorPrecision: head.priorPrecision,
    logLikelihood: head.logLikelihood,
    logMarginalLikelihood: head.logMarginalLikelihood,
    priorPrecisionOptimized: head.priorPrecisionOptimized,
    evidenceIterations: head.evidenceIterations,
    examples: head.examples,
    seconds,
  };
}

/** Inverse of {@link headState}. */
export function headFromState(st: Record<string, unknown>): LastLayerHead {
  const num = (k: string) => {
    const v = st[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`deserialize: last-layer state.${k} is not a number`);
    return v;
  };
  if (st.kind === 'linear') {
    const dA = num('dA');
    const precision = base64ToF64(String(st.precision));
    const mean = base64ToF64(String(st.mean));
    if (precision.length !== dA * dA || mean.length !== dA * num('k')) throw new Error('deserialize: last-layer state has inconsistent sizes');
    return {
      kind: 'linear',
      examples: num('examples'),
      blr: {
        alpha: num('alpha'),
        beta: num('beta'),
        dA,
        k: num('k'),
        mean,
        precision,
        L: cholesky(precision, dA),
        logEvidence: num('logEvidence'),
        effectiveParameters: typeof st.effectiveParameters === 'number' ? st.effectiveParameters : NaN,
        iterations: typeof st.iterations === 'number' ? st.iterations : 0,
      },
    };
  }
  if (st.kind === 'logistic') {
    const w = base64ToF64(String(st.w));
    const block = deserializeBlock(st.block as SerializedBlock);
    if (block.P !== w.length) throw new Error('deserialize: last-layer block and W̃ disagree');
    return {
      kind: 'logistic',
      w,
      block,
      priorPrecision: num('priorPrecision'),
      logLikelihood: num('logLikelihood'),
      logMarginalLikelihood: num('logMarginalLikelihood'),
      priorPrecisionOptimized: Boolean(st.priorPrecisionOptimized),
      evidenceIterations: typeof st.evidenceIterations === 'number' ? st.evidenceIterations : 0,
      examples: num('examples'),
    };
  }
  throw new Error(`deserialize: unknown last-layer state kind ${String(st.kind)}`);
}
