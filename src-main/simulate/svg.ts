/**
 * The learning-curve plot as a standalone SVG (no dependencies): held-out accuracy against the
 * number of labels, one line per acquisition function (median over seeds) with its interquartile
 * band, axes with ticks, 90% / 95% reference lines and a legend.
 */
import type { AcquisitionSummary } from './types.ts';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number) => (Math.round(v * 100) / 100).toString();

/** About `count` round ticks (1, 2, 2.5, 5 × 10^k steps; whole numbers only with `integer`) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 2.5, 5, 10].map((m) => m * mag).filter((s) => !integer || (Number.isInteger(s) && s >= 1));
  const step = steps.find((s) => s >= raw) ?? (integer ? Math.max(1, 10 * mag) : 10 * mag);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

export interface CurveOptions {
  title?: string;
  width?: number;
  height?: number;
}

export function learningCurveSvg(summaries: readonly AcquisitionSummary[], opts: CurveOptions = {}): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 480;
  const m = { left: 64, right: 190, top: 44, bottom: 56 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const curves = summaries.filter((s) => s.curve.length > 0);
  const xs = curves.flatMap((s) => s.curve.map((p) => p.labels));
  const ys = curves.flatMap((s) => s.curve.flatMap((p) => [p.q1, p.q3]));
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x1 === x0) (x0 -= 1), (x1 += 1);
  const y0 = ys.length ? Math.max(0, Math.floor(Math.min(...ys) * 10) / 10) : 0;
  const y1 = 1;
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0)) * plotW;
  const sy = (v: number) => m.top + (1 - (v - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${m.left}" y="24" font-size="15" font-weight="bold">${esc(opts.title ?? 'Active learning: held-out accuracy against labels')}</text>`);

  // Grid, ticks and axis labels.
  const xTicks = niceTicks(x0, x1, 7, true);
  const yTicks = niceTicks(y0, y1, y1 - y0 > 0.5 ? 5 : 8);
  parts.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`);
  for (const t of xTicks) parts.push(`<line x1="${num(sx(t))}" y1="${m.top}" x2="${num(sx(t))}" y2="${m.top + plotH}"/>`);
  for (const t of yTicks) parts.push(`<line x1="${m.left}" y1="${num(sy(t))}" x2="${m.left + plotW}" y2="${num(sy(t))}"/>`);
  parts.push(`</g>`);
  parts.push(`<g class="axes" stroke="#333333" stroke-width="1">`);
  parts.push(`<line x1="${m.left}" y1="${m.top + plotH}" x2="${m.left + plotW}" y2="${m.top + plotH}"/>`);
  parts.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + plotH}"/>`);
  for (const t of xTicks) parts.push(`<line x1="${num(sx(t))}" y1="${m.top + plotH}" x2="${num(sx(t))}" y2="${m.top + plotH + 5}"/>`);
  for (const t of yTicks) parts.push(`<line x1="${m.left - 5}" y1="${num(sy(t))}" x2="${m.left}" y2="${num(sy(t))}"/>`);
  parts.push(`</g>`);
  parts.push(`<g class="tick-labels" fill="#333333">`);
  for (const t of xTicks) parts.push(`<text x="${num(sx(t))}" y="${m.top + plotH + 19}" text-anchor="middle">${num(t)}</text>`);
  for (const t of yTicks) parts.push(`<text x="${m.left - 8}" y="${num(sy(t) + 4)}" text-anchor="end">${Math.round(t * 1000) / 10}%</text>`);
  parts.push(`</g>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 14}" text-anchor="middle">labelled images</text>`);
  parts.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">held-out accuracy</text>`);

  // 90% and 95% reference lines.
  for (const ref of [0.9, 0.95]) {
    if (ref < y0 || ref > y1) continue;
    parts.push(`<line class="reference" x1="${m.left}" y1="${num(sy(ref))}" x2="${m.left + plotW}" y2="${num(sy(ref))}" stroke="#999999" stroke-dasharray="5 4"/>`);
    parts.push(`<text x="${m.left + plotW - 4}" y="${num(sy(ref) - 4)}" text-anchor="end" fill="#777777" font-size="11">${ref * 100}%</text>`);
  }

  // Bands first (under every line), then the median lines.
  curves.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const upper = s.curve.map((p) => `${num(sx(p.labels))},${num(sy(p.q3))}`);
    const lower = [...s.curve].reverse().map((p) => `${num(sx(p.labels))},${num(sy(p.q1))}`);
    parts.push(`<polygon class="band" data-acquisition="${esc(s.acquisition)}" points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.16" stroke="none"/>`);
  });
  curves.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.curve.map((p) => `${num(sx(p.labels))},${num(sy(p.median))}`).join(' ');
    parts.push(`<polyline class="median" data-acquisition="${esc(s.acquisition)}" points="${pts}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
    if (s.curve.length === 1) parts.push(`<circle cx="${num(sx(s.curve[0].labels))}" cy="${num(sy(s.curve[0].median))}" r="3" fill="${color}"/>`);
  });

  // Legend: name and labels to 95% (median over seeds).
  const lx = m.left + plotW + 16;
  parts.push(`<g class="legend">`);
  parts.push(`<text x="${lx}" y="${m.top + 4}" font-weight="bold">acquisition</text>`);
  parts.push(`<text x="${lx}" y="${m.top + 18}" fill="#666666" font-size="10.5">median, IQR band; labels to 95%</text>`);
  curves.forEach((s, i) => {
    const y = m.top + 40 + i * 22;
    const color = PALETTE[i % PALETTE.length];
    const to95 = s.labelsTo95.median === null ? '–' : num(s.labelsTo95.median);
    parts.push(`<rect x="${lx}" y="${y - 8}" width="22" height="10" fill="${color}" fill-opacity="0.16"/>`);
    parts.push(`<line x1="${lx}" y1="${y - 3}" x2="${lx + 22}" y2="${y - 3}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 30}" y="${y + 1}">${esc(s.acquisition)} (${to95})</text>`);
  });
  parts.push(`</g>`);
  parts.push(`</svg>`);
  return parts.join('\n') + '\n';
}
