// Native float32 kernels for the wasm backend: GEMM and NHWC convolution (forward, filter gradient,
// input gradient). The wasm build's XNNPACK is limited to 128-bit SIMD (about 10 GMAC/s on two cores
// of this project's reference machine); these run with AVX2 + FMA where the CPU has them.
//
// GEMM follows the BLIS layout (Van Zee & van de Geijn, "BLIS: A Framework for Rapidly Instantiating
// BLAS Functionality", ACM TOMS 2015): B packed in KC×NR panels, A in MR×KC panels, a 6×16 register
// micro-kernel. Matrices are addressed through (row stride, column stride), so transposes cost nothing.
// Convolutions whose windows stay inside the image (and the stride-1 input gradient, on zero-padded
// dy) are direct: the micro-kernel reads the image through offset tables, with no im2col copy; the
// others are im2col + GEMM. Threads take contiguous ranges of images (or GEMM rows), and partial
// filter gradients are summed in thread order, so results do not depend on scheduling.
//
// Tensors arrive as Float32Array views into the wasm heap and outputs are written in place: no copies
// across the JS boundary (addon.cc and conv_addon.cc are the entry points).
#include "kernels.h"

#ifdef EPISTEME_X86
#include <immintrin.h>
#endif

namespace episteme {

int g_threads = 1;
bool g_avx2 = false;
thread_local Scratch t_scratch;

namespace {

void pack_b(const View& B, int k0, int kc, int j0, int nc, float* out) {
  for (int jp = 0; jp < nc; jp += NR) {
    const int w = std::min(NR, nc - jp);
    for (int k = 0; k < kc; k++) {
      const float* src = B.p + B.row(k0 + k);
      if (B.cs == 1) {
        std::memcpy(out, src + j0 + jp, sizeof(float) * w);
      } else {
        for (int j = 0; j < w; j++) out[j] = src[B.col(j0 + jp + j)];
      }
      for (int j = w; j < NR; j++) out[j] = 0.f;
      out += NR;
    }
  }
}

void pack_a(const View& A, int i0, int mc, int k0, int kc, float* out) {
  for (int ip = 0; ip < mc; ip += MR) {
    const int h = std::min(MR, mc - ip);
    long roff[MR];
    for (int i = 0; i < h; i++) roff[i] = A.row(i0 + ip + i);
    for (int k = 0; k < kc; k++) {
      const float* src = A.p + A.col(k0 + k);
      for (int i = 0; i < h; i++) out[i] = src[roff[i]];
      for (int i = h; i < MR; i++) out[i] = 0.f;
      out += MR;
    }
  }
}

void tile_generic(long kc, const long* off, const float* const* a, const float* b, float* c, long ldc, int h, int w, Epilogue e) {
  float acc[MR][NR] = {};
  for (long k = 0; k < kc; k++, b += NR) {
    const long o = off[k];
    for (int i = 0; i < MR; i++) {
      const float ai = a[i][o];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
  }
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++) {
      float v = acc[i][j] + (e.accumulate ? c[i * ldc + j] : 0.f) + (e.bias ? e.bias[j] : 0.f);
      c[i * ldc + j] = e.relu && v < 0.f ? 0.f : v;
    }
}

#ifdef EPISTEME_X86
__attribute__((target("avx2,fma"))) void tile_avx2(long kc, const long* off, const float* const* a, const float* b, float* c,
                                                     long ldc, int h, int w, Epilogue e) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  for (long k = 0; k < kc; k++, b += NR) {
    const long o = off[k];
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a0 + o);
    c00 = _mm256_fmadd_ps(ai, b0, c00), c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a1 + o);
    c10 = _mm256_fmadd_ps(ai, b0, c10), c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a2 + o);
    c20 = _mm256_fmadd_ps(ai, b0, c20), c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a3 + o);
    c30 = _mm256_fmadd_ps(ai, b0, c30), c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a4 + o);
    c40 = _mm256_fmadd_ps(ai, b0, c40), c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a5 + o);
    c50 = _mm256_fmadd_ps(ai, b0, c50), c51 = _mm256_fmadd_ps(ai, b1, c51);
  }
  const __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (h == MR && w == NR && !e.bias && !e.relu) {
    for (int i = 0; i < MR; i++) {
      float* ci = c + i * ldc;
      __m256 r0 = rows[i][0], r1 = rows[i][1];
      if (e.accumulate) r0 = _mm256_add_ps(r0, _mm256_loadu_ps(ci)), r1 = _mm256_add_ps(r1, _mm256_loadu_ps(ci + 8));
      _mm256_storeu_ps(ci, r0);
      _mm256_storeu_ps(ci + 8, r1);
    }
    return;
  }
  alignas(32) float tmp[MR][NR];
  for (int i = 0; i < MR; i++) _mm256_store_ps(tmp[i], rows[i][0]), _mm256_store_ps(tmp[i] + 8, rows[i][1]);
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++) {
      float v = tmp[i][j] + (e.accumulate ? c[i * ldc + j] : 0.f) + (e.bias ? e.bias[j] : 0.f);
      c[i * ldc + j] = e.relu && v < 0.f ? 0.f : v;
    }
}
#endif

// Offsets of a packed MR×KC A panel for the tile kernel: element k of row i is at i + MR·k.
const long* panel_offsets() {
  static const std::vector<long> offsets = [] {
    std::vector<long> o(KC);
    for (int k = 0; k < KC; k++) o[k] = (long)k * MR;
    return o;
  }();
  return offsets.data();
}

}  // namespace

void tile(long kc, const long* off, const float* const* a, const float* b, float* c, long ldc, int h, int w, Epilogue e) {
#ifdef EPISTEME_X86
  if (g_avx2) return tile_avx2(kc, off, a, b, c, ldc, h, w, e);
#endif
  tile_generic(kc, off, a, b, c, ldc, h, w, e);
}

// src [rows × cols] (row stride ld) → ⌈cols/16⌉ panels of rows × 16, zero-padded.
void pack_panels(const float* src, long rows, int cols, long ld, float* out) {
  for (int j0 = 0; j0 < cols; j0 += NR) {
    const int w = std::min(NR, cols - j0);
    for (long r = 0; r < rows; r++, out += NR) {
      std::memcpy(out, src + r * ld + j0, sizeof(float) * w);
      std::fill(out + w, out + NR, 0.f);
    }
  }
}

// C[m×n] (row stride ldc) = (accumulate ? C : 0) + A[m×k] · B[k×n], on the calling thread.
void gemm(int m, int n, int k, const View& A, const View& B, float* C, long ldc, bool accumulate) {
  if (k == 0) {
    if (!accumulate)
      for (int i = 0; i < m; i++) std::fill(C + i * ldc, C + i * ldc + n, 0.f);
    return;
  }
  Scratch& s = t_scratch;
  s.a.resize(MC * KC);
  s.b.resize(KC * NC);
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      pack_b(B, pc, kc, jc, nc, s.b.data());
      const bool acc = accumulate || pc > 0;
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = std::min(MC, m - ic);
        pack_a(A, ic, mc, pc, kc, s.a.data());
        for (int jr = 0; jr < nc; jr += NR)
          for (int ir = 0; ir < mc; ir += MR) {
            const float* ap = s.a.data() + ir * kc;
            const float* bp = s.b.data() + jr * kc;
            float* cp = C + (ic + ir) * ldc + jc + jr;
            const float* rows[MR] = {ap, ap + 1, ap + 2, ap + 3, ap + 4, ap + 5};
            tile(kc, panel_offsets(), rows, bp, cp, ldc, std::min(MR, mc - ir), std::min(NR, nc - jr), Epilogue{acc, nullptr, false});
          }
      }
    }
  }
}

}  // namespace episteme
