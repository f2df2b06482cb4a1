/**
 * The prior predictive check (bdl/priorPredictive.ts) as a standalone SVG: two panels side by side,
 * the S prior functions of the tanh network and of the ReLU network (same weight draws), on shared
 * styling with the learning-curve plot (simulate/svg.ts). Each panel has its own y range: ReLU
 * functions grow linearly away from their kinks, tanh functions saturate.
 */
import { priorPredictiveCheck, type PriorCheck, type PriorNetworkOptions } from '../bdl/priorPredictive.ts';
import { niceTicks } from '../simulate/svg.ts';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];
const num = (v: number) => (Math.round(v * 100) / 100).toString();

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

function panel(parts: string[], box: Box, title: string, x: Float32Array, f: Float32Array, samples: number): void {
  const G = x.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of f) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  if (!(hi > lo)) (lo = (Number.isFinite(lo) ? lo : 0) - 1), (hi = lo + 2);
  const yTicks = niceTicks(lo, hi, 6);
  const [y0, y1] = [Math.min(lo, yTicks[0]), Math.max(hi, yTicks[yTicks.length - 1])];
  const [x0, x1] = [x[0], x[G - 1]];
  const sx = (v: number) => box.left + ((v - x0) / (x1 - x0)) * box.width;
  const sy = (v: number) => box.top + (1 - (v - y0) / (y1 - y0)) * box.height;
  const bottom = box.top + box.height;
  parts.push(`<g class="panel" data-activation="${title}">`);
  parts.push(`<text x="${box.left}" y="${box.top - 10}" font-size="13" font-weight="bold">${title}</text>`);
  parts.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`);
  const xTicks = niceTicks(x0, x1, 6);
  for (const t of xTicks) parts.push(`<line x1="${num(sx(t))}" y1="${box.top}" x2="${num(sx(t))}" y2="${bottom}"/>`);
  for (const t of yTicks) parts.push(`<line x1="${box.left}" y1="${num(sy(t))}" x2="${box.left + box.width}" y2="${num(sy(t))}"/>`);
  parts.push(`</g>`);
  parts.push(`<g class="axes" stroke="#333333" stroke-width="1">`);
  parts.push(`<line x1="${box.left}" y1="${bottom}" x2="${box.left + box.width}" y2="${bottom}"/>`);
  parts.push(`<line x1="${box.left}" y1="${box.top}" x2="${box.left}" y2="${bottom}"/>`);
  parts.push(`</g>`);
  parts.push(`<g class="tick-labels" fill="#333333">`);
  for (const t of xTicks) parts.push(`<text x="${num(sx(t))}" y="${bottom + 18}" text-anchor="middle">${num(t)}</text>`);
  for (const t of yTicks) parts.push(`<text x="${box.left - 7}" y="${num(sy(t) + 4)}" text-anchor="end">${num(t)}</text>`);
  parts.push(`</g>`);
  parts.push(`<text x="${box.left + box.width / 2}" y="${bottom + 38}" text-anchor="middle">x</text>`);
  parts.push(`<g clip-path="url(#clip-${title})">`);
  for (let s = 0; s < samples; s++) {
    const pts: string[] = [];
    for (let g = 0; g < G; g++) pts.push(`${num(sx(x[g]))},${num(sy(f[s * G + g]))}`);
    parts.push(`<polyline class="sample" points="${pts.join(' ')}" fill="none" stroke="${PALETTE[s % PALETTE.length]}" stroke-width="1.5" stroke-opacity="0.85" stroke-linejoin="round"/>`);
  }
  parts.push(`</g>`);
  parts.push(`<clipPath id="clip-${title}"><rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}"/></clipPath>`);
  parts.push(`</g>`);
}

/** The check's S tanh and S ReLU functions as an SVG document (two panels). */
export function priorCheckSvg(check: PriorCheck, opts: { width?: number; height?: number } = {}): string {
  const width = opts.width ?? 900;
  const height = opts.height ?? 400;
  const o = check.options;
  const m = { left: 56, right: 20, top: 78, bottom: 52, gap: 64 };
  const panelW = (width - m.left - m.right - m.gap) / 2;
  const panelH = height - m.top - m.bottom;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${m.left}" y="24" font-size="15" font-weight="bold">Prior predictive check: ${o.samples} functions drawn from the prior</text>`);
  const arch = ['1', ...Array.from({ length: o.depth }, () => String(o.width)), '1'].join('→');
  parts.push(
    `<text x="${m.left}" y="42" fill="#555555">${o.prior} prior, weights σ_w/√fan_in with σ_w = ${num(o.sigmaW)}, biases σ_b = ${num(o.sigmaB)}; network ${arch}; seed ${o.seed}</text>`,
  );
  const S = o.samples;
  panel(parts, { left: m.left, top: m.top, width: panelW, height: panelH }, 'tanh', check.x, check.tanh, S);
  panel(parts, { left: m.left + panelW + m.gap, top: m.top, width: panelW, height: panelH }, 'ReLU', check.x, check.relu, S);
  parts.push(`</svg>`);
  return parts.join('\n') + '\n';
}

/** Runs the check and draws it: the SVG and the options as run (defaults filled in). */
export async function priorCheckPlot(options: PriorNetworkOptions): Promise<{ svg: string; options: PriorCheck['options'] }> {
  const check = await priorPredictiveCheck(options);
  return { svg: priorCheckSvg(check), options: check.options };
}
