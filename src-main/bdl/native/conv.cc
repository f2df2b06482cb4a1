// Direct ("indirect") convolution, im2col / col2im for the cases it does not cover, and the
// max-pooling gradient; NHWC throughout. See gemm.cc for the micro-kernel they share.
#include "kernels.h"

namespace episteme {

// y[p, j] = act(bias[j] + Σ_k x[pixel[p] + patch[k]] · w[k, j]) for p < P, j < co; wp = pack_panels(w).
void direct_conv(long P, long K, const long* pixel, const long* patch, const float* x, const float* wp, int co, float* y,
                 const float* bias, bool relu) {
  for (long p0 = 0; p0 < P; p0 += MR) {
    const int h = (int)std::min<long>(MR, P - p0);
    const float* a[MR];
    for (int i = 0; i < MR; i++) a[i] = x + pixel[p0 + std::min(i, h - 1)];
    for (int j0 = 0; j0 < co; j0 += NR)
      tile(K, patch, a, wp + (long)(j0 / NR) * K * NR, y + p0 * co + j0, co, h, std::min(NR, co - j0),
           Epilogue{false, bias ? bias + j0 : nullptr, relu});
  }
}

// cols[p, (kh, kw, c)] for output pixel p of one image (zeros where the window leaves the image).
// With dilation 1 the fw·ci values of one kernel row are contiguous in x and copied as one run.
void im2col(const ConvShape& s, const float* x, float* cols) {
  const long run = (long)s.fw * s.ci;
  for (int oy = 0; oy < s.oh; oy++)
    for (int ox = 0; ox < s.ow; ox++) {
      float* dst = cols + ((long)oy * s.ow + ox) * s.patch();
      const int ix0 = ox * s.sw - s.pl;
      const bool row_inside = s.dw == 1 && ix0 >= 0 && ix0 + s.fw <= s.w;
      for (int kh = 0; kh < s.fh; kh++, dst += run) {
        const int iy = oy * s.sh + kh * s.dh - s.pt;
        if (iy < 0 || iy >= s.h) {
          std::fill(dst, dst + run, 0.f);
        } else if (row_inside) {
          std::memcpy(dst, x + ((long)iy * s.w + ix0) * s.ci, sizeof(float) * run);
        } else {
          for (int kw = 0; kw < s.fw; kw++) {
            const int ix = ix0 + kw * s.dw;
            float* d = dst + (long)kw * s.ci;
            if (ix < 0 || ix >= s.w) std::fill(d, d + s.ci, 0.f);
            else std::memcpy(d, x + ((long)iy * s.w + ix) * s.ci, sizeof(float) * s.ci);
          }
        }
      }
    }
}

// dx (one image) += col2im of the rows p0 … p1−1 of dcols (row p0 first): the adjoint of im2col.
void col2im_add(const ConvShape& s, const float* dcols, long p0, long p1, float* dx) {
  const long run = (long)s.fw * s.ci;
  for (long p = p0; p < p1; p++) {
    const int oy = (int)(p / s.ow), ox = (int)(p % s.ow);
    const float* src = dcols + (p - p0) * s.patch();
    const int ix0 = ox * s.sw - s.pl;
    const bool row_inside = s.dw == 1 && ix0 >= 0 && ix0 + s.fw <= s.w;
    for (int kh = 0; kh < s.fh; kh++, src += run) {
      const int iy = oy * s.sh + kh * s.dh - s.pt;
      if (iy < 0 || iy >= s.h) continue;
      if (row_inside) {
        float* d = dx + ((long)iy * s.w + ix0) * s.ci;
        for (long i = 0; i < run; i++) d[i] += src[i];
        continue;
      }
      for (int kw = 0; kw < s.fw; kw++) {
        const int ix = ix0 + kw * s.dw;
        if (ix < 0 || ix >= s.w) continue;
        float* d = dx + ((long)iy * s.w + ix) * s.ci;
        const float* v = src + (long)kw * s.ci;
        for (int c = 0; c < s.ci; c++) d[c] += v[c];
      }
    }
  }
}

// dx [n,h,w,c] = Σ over pooling windows of dy routed to the window's first maximum of x (row-major
// order, as tfjs' cpu kernel); padded positions never win. Channels innermost, so the loops vectorise.
void max_pool_grad(const PoolShape& s, const float* x, const float* dy, float* dx, int b, int e) {
  const long image = (long)s.h * s.w * s.c;
  std::fill(dx + b * image, dx + e * image, 0.f);
  std::vector<float> best(s.c);
  std::vector<long> at(s.c);
  for (int img = b; img < e; img++) {
    const float* xi = x + img * image;
    float* dxi = dx + img * image;
    const float* dyi = dy + (long)img * s.oh * s.ow * s.c;
    for (int oy = 0; oy < s.oh; oy++)
      for (int ox = 0; ox < s.ow; ox++) {
        bool first = true;
        for (int py = 0; py < s.ph; py++) {
          const int iy = oy * s.sh + py - s.pt;
          if (iy < 0 || iy >= s.h) continue;
          for (int px = 0; px < s.pw; px++) {
            const int ix = ox * s.sw + px - s.pl;
            if (ix < 0 || ix >= s.w) continue;
            const long base = ((long)iy * s.w + ix) * s.c;
            const float* v = xi + base;
            if (first) {
              for (int ch = 0; ch < s.c; ch++) best[ch] = v[ch], at[ch] = base + ch;
              first = false;
              continue;
            }
            for (int ch = 0; ch < s.c; ch++)
              if (v[ch] > best[ch]) best[ch] = v[ch], at[ch] = base + ch;
          }
        }
        if (first) continue;
        const float* g = dyi + ((long)oy * s.ow + ox) * s.c;
        for (int ch = 0; ch < s.c; ch++) dxi[at[ch]] += g[ch];
      }
  }
}

}  // namespace episteme
