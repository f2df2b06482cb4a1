// Shared declarations of the native kernels: the GEMM (gemm.cc), convolution and pooling (conv.cc)
// and the Node-API entry points (addon.cc, conv_addon.cc, with the argument helpers of napi_args.h).
// See gemm.cc for the method and references.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EPISTEME_X86 1
#endif

namespace episteme {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int KC = 512;
constexpr int MC = 96;
constexpr int NC = 1024;

// A matrix addressed through (row stride, column stride), so a transpose is a swap of strides.
struct View {
  const float* p;
  long rs;  // stride between rows
  long cs;  // stride between columns
  long row(long i) const { return i * rs; }
  long col(long j) const { return j * cs; }
};

// Threads used by parallel_ranges (setThreads) and whether the CPU has AVX2 + FMA (set at load).
extern int g_threads;
extern bool g_avx2;

// Per-thread buffers reused across calls (packed panels, im2col columns, partial sums).
struct Scratch {
  std::vector<float> a, b, cols;
};
extern thread_local Scratch t_scratch;

// The "indirect" micro-kernel of direct convolution (Dukhan, "The Indirect Convolution Algorithm",
// 2019): c[i, j] = epilogue(Σ_k a[i][off[k]] · b[k, j]) for i < h ≤ 6 and j < w ≤ 16, b packed K×16.
// Forward: a[i] = image + pixel offset of output pixel i, off = offsets of the patch entries.
// Filter gradient: a[i] = image + offset of patch entry i, off = pixel offsets, b = dy.
// GEMM: a[i] = packed A panel + i, off[k] = 6k (see gemm).
struct Epilogue {
  bool accumulate;
  const float* bias;  // w values, or null
  bool relu;
};

void tile(long kc, const long* off, const float* const* a, const float* b, float* c, long ldc, int h, int w, Epilogue e);

// src [rows × cols] (row stride ld) → ⌈cols/16⌉ panels of rows × 16, zero-padded.
void pack_panels(const float* src, long rows, int cols, long ld, float* out);

// C[m×n] (row stride ldc) = (accumulate ? C : 0) + A[m×k] · B[k×n], on the calling thread.
void gemm(int m, int n, int k, const View& A, const View& B, float* C, long ldc, bool accumulate);

// Runs f(t, begin, end) over [0, count) split into at most g_threads contiguous ranges (aligned to
// `grain`); range t always goes to the same index t, so reductions in t order are deterministic.
template <typename F>
int parallel_ranges(int count, int grain, F f) {
  const int chunks = std::max(1, std::min(g_threads, (count + grain - 1) / grain));
  const int per = ((count + chunks - 1) / chunks + grain - 1) / grain * grain;
  std::vector<std::thread> pool;
  int used = 0;
  for (int t = 0; t < chunks; t++) {
    const int b = t * per, e = std::min(count, b + per);
    if (b >= e) break;
    used++;
    if (t == 0) continue;
    pool.emplace_back([=] { f(t, b, e); });
  }
  if (used > 0) f(0, 0, std::min(count, per));
  for (auto& th : pool) th.join();
  return used;
}

struct ConvShape {
  int n, h, w, ci, co, fh, fw, sh, sw, dh, dw, pt, pl, oh, ow;
  long patch() const { return (long)fh * fw * ci; }
  long pixels() const { return (long)oh * ow; }
  long image() const { return (long)h * w * ci; }
  // Every window inside the image (no padding read): the im2col matrix can be addressed in place.
  bool windows_inside() const {
    return pt == 0 && pl == 0 && (long)(oh - 1) * sh + (long)(fh - 1) * dh < h && (long)(ow - 1) * sw + (long)(fw - 1) * dw < w;
  }
};

// im2col(x)[p, k] = x[pixel[p] + patch[k]] for windows inside the image.
struct Im2colTables {
  std::vector<long> pixel, patch;
  explicit Im2colTables(const ConvShape& s) : pixel(s.pixels()), patch(s.patch()) {
    for (int oy = 0; oy < s.oh; oy++)
      for (int ox = 0; ox < s.ow; ox++) pixel[(long)oy * s.ow + ox] = ((long)oy * s.sh * s.w + (long)ox * s.sw) * s.ci;
    long k = 0;
    for (int kh = 0; kh < s.fh; kh++)
      for (int kw = 0; kw < s.fw; kw++)
        for (int c = 0; c < s.ci; c++) patch[k++] = ((long)kh * s.dh * s.w + (long)kw * s.dw) * s.ci + c;
  }
};

// y[p, j] = act(bias[j] + Σ_k x[pixel[p] + patch[k]] · w[k, j]) for p < P, j < co; wp = pack_panels(w).
void direct_conv(long P, long K, const long* pixel, const long* patch, const float* x, const float* wp, int co, float* y,
                 const float* bias, bool relu);

// cols[p, (kh, kw, c)] for output pixel p of one image (zeros where the window leaves the image).
void im2col(const ConvShape& s, const float* x, float* cols);

// dx (one image) += col2im of the rows p0 … p1−1 of dcols (row p0 first): the adjoint of im2col.
void col2im_add(const ConvShape& s, const float* dcols, long p0, long p1, float* dx);

struct PoolShape {
  int n, h, w, c, ph, pw, sh, sw, pt, pl, oh, ow;
};

// dx [n,h,w,c] = Σ over pooling windows of dy routed to the window's first maximum of x.
void max_pool_grad(const PoolShape& s, const float* x, const float* dy, float* dx, int b, int e);

}  // namespace episteme
