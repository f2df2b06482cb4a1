/**
 * Resampling of interleaved uint8 images in plain JS, for the model input. A call into sharp costs
 * about 1 ms however small the image (libvips pipeline set-up), which capped import at ~250 files/s;
 * this costs tens of microseconds for a 64×64 source.
 *
 * Like libvips' resize it shrinks by an integer box average first (so a 4096² radiograph costs one
 * pass over its pixels), then resamples with a Lanczos-3 kernel widened by the remaining downscale
 * factor (antialiasing, as Pillow's resize), separably, in float, rounding once at the end.
 */

const LANCZOS_LOBES = 3;

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -LANCZOS_LOBES || x >= LANCZOS_LOBES) return 0;
  const px = Math.PI * x;
  return (LANCZOS_LOBES * Math.sin(px) * Math.sin(px / LANCZOS_LOBES)) / (px * px);
}

/** Per output index: the first source index and the normalised weights (one axis). */
function axisWeights(inSize: number, outSize: number): { first: Int32Array; weights: Float32Array[] } {
  const scale = inSize / outSize;
  const widen = Math.max(1, scale);
  const support = LANCZOS_LOBES * widen;
  const first = new Int32Array(outSize);
  const weights: Float32Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    const w = new Float32Array(hi - lo);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += w[i - lo] = lanczos((i + 0.5 - centre) / widen);
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    first[o] = lo;
    weights.push(w);
  }
  return { first, weights };
}

/** Integer box average by (fx, fy): [h, w, c] → [⌊h/fy⌋, ⌊w/fx⌋, c]; leftover edge pixels are dropped. */
function boxShrink(src: Uint8Array, width: number, height: number, channels: number, fx: number, fy: number): { pixels: Float32Array; width: number; height: number } {
  const w = Math.floor(width / fx);
  const h = Math.floor(height / fy);
  const out = new Float32Array(w * h * channels);
  const norm = 1 / (fx * fy);
  for (let y = 0; y < h; y++) {
    for (let sy = y * fy; sy < (y + 1) * fy; sy++) {
      const row = sy * width * channels;
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * channels;
        for (let sx = x * fx; sx < (x + 1) * fx; sx++) {
          const i = row + sx * channels;
          for (let c = 0; c < channels; c++) out[o + c] += src[i + c];
        }
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] *= norm;
  return { pixels: out, width: w, height: h };
}

/**
 * Resizes [height, width, channels] uint8 (row-major, interleaved) to [outHeight, outWidth, channels].
 */
export function resampleLanczos(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
  // Shrink by whole factors while at least 2× the target remains, so the kernel stays narrow.
  const fx = Math.max(1, Math.floor(width / outWidth / 2));
  const fy = Math.max(1, Math.floor(height / outHeight / 2));
  const { pixels, width: w, height: h }: { pixels: ArrayLike<number>; width: number; height: number } =
    fx > 1 || fy > 1 ? boxShrink(src, width, height, channels, fx, fy) : { pixels: src, width, height };
  const horizontal = axisWeights(w, outWidth);
  const rows = new Float32Array(h * outWidth * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outWidth; x++) {
      const wx = horizontal.weights[x];
      const base = (y * w + horizontal.first[x]) * channels;
      const o = (y * outWidth + x) * channels;
      for (let k = 0; k < wx.length; k++) for (let c = 0; c < channels; c++) rows[o + c] += wx[k] * pixels[base + k * channels + c];
    }
  }
  const vertical = axisWeights(h, outHeight);
  const out = new Uint8Array(outHeight * outWidth * channels);
  const stride = outWidth * channels;
  for (let y = 0; y < outHeight; y++) {
    const wy = vertical.weights[y];
    const base = vertical.first[y] * stride;
    for (let i = 0; i < stride; i++) {
      let acc = 0;
      for (let k = 0; k < wy.length; k++) acc += wy[k] * rows[base + k * stride + i];
      out[y * stride + i] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  return out;
}
