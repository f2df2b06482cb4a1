export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface Window {
  center: number;
  width: number;
}

/** Window spanning [min, max] exactly under the PS3.3 C.11.2.1.2 linear formula: min → 0, max → 255. */
export function rangeWindow(min: number, max: number): Window {
  const width = Math.max(1, max - min + 1);
  return { center: min + width / 2, width };
}

/** Whether a window read from the file can be used with the given VOI LUT function. */
export function isUsableWindow(w: Window | undefined, fn: VoiFunction): w is Window {
  if (!w || !Number.isFinite(w.center) || !Number.isFinite(w.width)) return false;
  return fn === 'LINEAR' ? w.width >= 1 : w.width > 0;
}

/** Map modality values to 0..255 per PS3.3 C.11.2.1.2 (LINEAR), C.11.2.1.3.1 (LINEAR_EXACT/SIGMOID). */
export function applyWindow(values: Float32Array, win: Window, fn: VoiFunction, invert: boolean): Uint8Array {
  const out = new Uint8Array(values.length);
  const { center: c, width: w } = win;
  const lo = c - 0.5 - (w - 1) / 2;
  const hi = c - 0.5 + (w - 1) / 2;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    let y: number;
    if (fn === 'LINEAR') {
      y = x <= lo ? 0 : x > hi ? 255 : ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
    } else if (fn === 'LINEAR_EXACT') {
      y = x <= c - w / 2 ? 0 : x > c + w / 2 ? 255 : ((x - c) / w + 0.5) * 255;
    } else {
      y = 255 / (1 + Math.exp((-4 * (x - c)) / w));
    }
    // Uint8Array assignment truncates, so round explicitly; NaN (never expected) becomes 0.
    const v = Math.round(y);
    out[i] = invert ? 255 - v : v;
  }
  return out;
}

/** PS3.3 C.7.6.3.1.2 YBR_FULL → RGB, in place on interleaved 8-bit triples. */
export function ybrFullToRgbInPlace(px: Uint8Array): void {
  for (let i = 0; i + 2 < px.length; i += 3) {
    const y = px[i];
    const cb = px[i + 1] - 128;
    const cr = px[i + 2] - 128;
    px[i] = clamp255(y + 1.402 * cr);
    px[i + 1] = clamp255(y - 0.344136 * cb - 0.714136 * cr);
    px[i + 2] = clamp255(y + 1.772 * cb);
  }
}

export function clamp255(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
