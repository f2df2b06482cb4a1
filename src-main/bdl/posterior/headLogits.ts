/**
 * The last-layer head's predictive on feature rows in plain JS, with no tfjs import (the re-rank's
 * scoring workers load this and nothing heavier).
 *
 * The S sampled heads' logits G = Φ̃ W̃: W̃ [D+1, S·C] is transposed once so that each logit is a
 * contiguous dot product, and a 4 × 4 register tile (four rows of Φ against four columns of W̃)
 * does 16 multiply-adds per 8 loads, about 2× the throughput of a row-by-row axpy in V8. Both
 * operands are held as float64 (no conversion in the inner loop) and so are the sums: the values
 * match the tensor path (stackedLogits) to rounding.
 */
import type { LastLayerHead } from './lastLayerHead.ts';

/** Rows per logits block: its features and logits g [64, S·C] (float64) stay in L2 next to the transposed weights. */
const LOGIT_ROWS = 64;

export interface TransposedHead {
  /** W̃ without the bias row, transposed: [S·C, D] row-major. */
  wt: Float64Array;
  /** Bias row of W̃ [S·C]. */
  bias: Float64Array;
  d: number;
  cols: number;
}

/** Transposes stacked weight draws W̃ [D+1, cols] (last row = bias) for {@link headLogitsBlock}. */
export function transposeHead(w: Float32Array, d: number, cols: number): TransposedHead {
  if (w.length !== (d + 1) * cols) throw new Error(`transposeHead: weights must be [${d + 1}, ${cols}]`);
  const wt = new Float64Array(cols * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < cols; j++) wt[j * d + i] = w[i * cols + j];
  return { wt, bias: Float64Array.from(w.subarray(d * cols)), d, cols };
}

/** Logits of the first `rows` rows of Φ [≥ rows, D] into g [rows, cols] (row-major). */
export function headLogitsBlock(phi: Float64Array, rows: number, head: TransposedHead, g: Float64Array): void {
  const { wt, bias, d, cols } = head;
  if (phi.length < rows * d || g.length < rows * cols) throw new Error(`headLogitsBlock: phi must hold ${rows} × ${d} values and g ${rows} × ${cols}`);
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += phi[a + i] * wt[b + i];
    return s;
  };
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const a0 = r * d;
    const a1 = a0 + d;
    const a2 = a1 + d;
    const a3 = a2 + d;
    const o0 = r * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const b0 = j * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let i = 0; i < d; i++) {
        const x0 = phi[a0 + i];
        const x1 = phi[a1 + i];
        const x2 = phi[a2 + i];
        const x3 = phi[a3 + i];
        const y0 = wt[b0 + i];
        const y1 = wt[b1 + i];
        const y2 = wt[b2 + i];
        const y3 = wt[b3 + i];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const c0 = bias[j];
      const c1 = bias[j + 1];
      const c2 = bias[j + 2];
      const c3 = bias[j + 3];
      g[o0 + j] = s00 + c0; g[o0 + j + 1] = s01 + c1; g[o0 + j + 2] = s02 + c2; g[o0 + j + 3] = s03 + c3;
      g[o1 + j] = s10 + c0; g[o1 + j + 1] = s11 + c1; g[o1 + j + 2] = s12 + c2; g[o1 + j + 3] = s13 + c3;
      g[o2 + j] = s20 + c0; g[o2 + j + 1] = s21 + c1; g[o2 + j + 2] = s22 + c2; g[o2 + j + 3] = s23 + c3;
      g[o3 + j] = s30 + c0; g[o3 + j + 1] = s31 + c1; g[o3 + j + 2] = s32 + c2; g[o3 + j + 3] = s33 + c3;
    }
    for (; j < cols; j++) {
      g[o0 + j] = dot(a0, j * d) + bias[j];
      g[o1 + j] = dot(a1, j * d) + bias[j];
      g[o2 + j] = dot(a2, j * d) + bias[j];
      g[o3 + j] = dot(a3, j * d) + bias[j];
    }
  }
  for (; r < rows; r++) for (let j = 0; j < cols; j++) g[r * cols + j] = dot(r * d, j * d) + bias[j];
}

/**
 * Predictive samples [S, N, C] (float32, row-major) of the head at features Φ [N, D] for weight
 * draws W [D+1, S·C] from {@link headWeightSamples}, in plain JS (no tensors, so it can run on a
 * thread without a tfjs backend): logistic p_s = softmax(W̃_sᵀφ̃); linear p_s ∝ max(W̃_sᵀφ̃, 0) + 1e-4
 * (least-squares probabilistic classification, Sugiyama 2010). Rows [start, start + count) only
 * when given, written at their own positions of `out` (which then must hold all N rows).
 */
export function headProbabilities(
  kind: LastLayerHead['kind'],
  phi: Float32Array,
  d: number,
  w: Float32Array,
  samples: number,
  numClasses: number,
  out: Float32Array,
  rows: { start: number; count: number; total: number },
): void {
  const C = numClasses;
  const SC = samples * C;
  const { start, count, total } = rows;
  if (w.length !== (d + 1) * SC) throw new Error(`headProbabilities: weights must be [${d + 1}, ${SC}]`);
  if (out.length !== samples * total * C) throw new Error(`headProbabilities: out must be [${samples}, ${total}, ${C}]`);
  const head = transposeHead(w, d, SC);
  const x = new Float64Array(LOGIT_ROWS * d);
  const g = new Float64Array(LOGIT_ROWS * SC);
  for (let r0 = start; r0 < start + count; r0 += LOGIT_ROWS) {
    const r1 = Math.min(start + count, r0 + LOGIT_ROWS);
    x.set(phi.subarray(r0 * d, r1 * d));
    headLogitsBlock(x, r1 - r0, head, g);
    for (let r = r0; r < r1; r++) normaliseRow(kind, g, (r - r0) * SC, samples, C, out, r, total);
  }
}

/** Probabilities p_s of row r from its logits g[o, o + S·C), written to out [S, total, C]. */
function normaliseRow(kind: LastLayerHead['kind'], g: Float64Array, rowOffset: number, samples: number, C: number, out: Float32Array, r: number, total: number): void {
  for (let s = 0; s < samples; s++) {
    const o = rowOffset + s * C;
    const target = (s * total + r) * C;
    let sum = 0;
    if (kind === 'logistic') {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, g[o + c]);
      for (let c = 0; c < C; c++) sum += g[o + c] = Math.exp(g[o + c] - m);
    } else {
      for (let c = 0; c < C; c++) sum += g[o + c] = Math.max(g[o + c], 0) + 1e-4;
    }
    for (let c = 0; c < C; c++) out[target + c] = g[o + c] / sum;
  }
}
