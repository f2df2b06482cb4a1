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
// Tensors arrive as Float32Array views into the wasm heap (possibly a SharedArrayBuffer) and outputs
// are written in place: no copies across the JS boundary.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define EPISTEME_X86 1
#endif

namespace {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int KC = 512;
constexpr int MC = 96;
constexpr int NC = 1024;

struct View {
  const float* p;
  long rs;  // stride between rows
  long cs;  // stride between columns
  // Optional offset tables, which address an im2col matrix inside the image itself: element (i, j)
  // is p[ro[i] + co[j]] (rs, cs unused for the side that has a table).
  const long* ro = nullptr;
  const long* co = nullptr;
  long row(long i) const { return ro ? ro[i] : i * rs; }
  long col(long j) const { return co ? co[j] : j * cs; }
};

int g_threads = 1;
bool g_avx2 = false;

struct Scratch {
  std::vector<float> a, b, cols, part;
};
thread_local Scratch t_scratch;

void pack_b(const View& B, int k0, int kc, int j0, int nc, float* out) {
  for (int jp = 0; jp < nc; jp += NR) {
    const int w = std::min(NR, nc - jp);
    for (int k = 0; k < kc; k++) {
      const float* src = B.p + B.row(k0 + k);
      if (!B.co && B.cs == 1) {
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

// Offsets of a packed MR×KC A panel for the tile kernel: element k of row i is at i + MR·k.
const long* panel_offsets() {
  static const std::vector<long> offsets = [] {
    std::vector<long> o(KC);
    for (int k = 0; k < KC; k++) o[k] = (long)k * MR;
    return o;
  }();
  return offsets.data();
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

struct PoolShape {
  int n, h, w, c, ph, pw, sh, sw, pt, pl, oh, ow;
};

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

// ---------------------------------------------------------------- N-API glue

struct Args {
  napi_env env;
  size_t argc = 10;
  napi_value argv[10];
  bool ok = true;
};

float* f32(Args& a, size_t i, size_t& length) {
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  size_t offset;
  bool is_typed = false;
  napi_is_typedarray(a.env, a.argv[i], &is_typed);
  if (!is_typed || napi_get_typedarray_info(a.env, a.argv[i], &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(a.env, nullptr, "expected a Float32Array");
    a.ok = false;
    return nullptr;
  }
  // Node-API (Node 20) has no access to SharedArrayBuffer memory: such views would give a bad pointer.
  bool plain = false;
  napi_is_arraybuffer(a.env, buffer, &plain);
  if (!plain) {
    napi_throw_type_error(a.env, nullptr, "Float32Array must not be backed by a SharedArrayBuffer");
    a.ok = false;
    return nullptr;
  }
  return static_cast<float*>(data);
}

int32_t i32(Args& a, size_t i) {
  int32_t v = 0;
  if (napi_get_value_int32(a.env, a.argv[i], &v) != napi_ok) {
    napi_throw_type_error(a.env, nullptr, "expected an integer");
    a.ok = false;
  }
  return v;
}

bool read_args(napi_env env, napi_callback_info info, Args& a, size_t want) {
  a.env = env;
  napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr);
  if (a.argc < want) {
    napi_throw_type_error(env, nullptr, "too few arguments");
    return false;
  }
  return true;
}

bool check(Args& a, bool cond, const char* message) {
  if (!cond && a.ok) {
    napi_throw_range_error(a.env, nullptr, message);
    a.ok = false;
  }
  return a.ok;
}

// A typed array of exactly `len` elements of `type`, or null (with a TypeError naming `what`).
const void* typed(Args& a, size_t i, napi_typedarray_type type, size_t len, const char* what) {
  napi_typedarray_type got;
  size_t n = 0, offset;
  void* data = nullptr;
  napi_value buffer;
  if (napi_get_typedarray_info(a.env, a.argv[i], &got, &n, &data, &buffer, &offset) != napi_ok || got != type || n != len) {
    napi_throw_type_error(a.env, nullptr, what);
    a.ok = false;
    return nullptr;
  }
  return data;
}

// dims: Int32Array [n, h, w, ci, co, fh, fw, sh, sw, dh, dw, pt, pl, oh, ow]
bool read_shape(Args& a, size_t i, ConvShape& s) {
  const void* dims = typed(a, i, napi_int32_array, 15, "expected the 15 convolution dims as an Int32Array");
  if (!dims) return false;
  std::memcpy(&s, dims, sizeof(int32_t) * 15);
  return check(a, s.n > 0 && s.h > 0 && s.w > 0 && s.ci > 0 && s.co > 0 && s.fh > 0 && s.fw > 0 && s.sh > 0 &&
                      s.sw > 0 && s.dh > 0 && s.dw > 0 && s.oh > 0 && s.ow > 0,
               "convolution dims must be positive");
}

// The Float32Array arguments of a convolution call: roles[i] says what argument i is — 'x' an input
// [n,h,w,ci], 'y' an output-shaped [n,oh,ow,co], 'w' a filter [fh,fw,ci,co], '-' not an array here.
bool conv_arrays(Args& a, const ConvShape& s, const char* roles, float** out) {
  for (int i = 0; roles[i]; i++) {
    if (roles[i] == '-') continue;
    size_t len = 0;
    out[i] = f32(a, i, len);
    const size_t want = roles[i] == 'x' ? s.n * s.image() : roles[i] == 'y' ? s.n * s.pixels() * s.co : s.patch() * s.co;
    if (!a.ok || !check(a, len >= want, "array too short for the convolution dims")) return false;
  }
  return true;
}

napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// gemm(a, b, c, m, n, k, transposeA, transposeB, accumulate): c[m×n] (+)= op(a) · op(b), row-major.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, a, 9)) return nullptr;
  size_t la, lb, lc;
  const float* A = f32(a, 0, la);
  const float* B = a.ok ? f32(a, 1, lb) : nullptr;
  float* C = a.ok ? f32(a, 2, lc) : nullptr;
  const int m = a.ok ? i32(a, 3) : 0, n = a.ok ? i32(a, 4) : 0, k = a.ok ? i32(a, 5) : 0;
  const bool ta = a.ok && i32(a, 6) != 0, tb = a.ok && i32(a, 7) != 0, acc = a.ok && i32(a, 8) != 0;
  if (!a.ok || !check(a, m >= 0 && n >= 0 && k >= 0, "negative size") ||
      !check(a, la >= (size_t)m * k && lb >= (size_t)k * n && lc >= (size_t)m * n, "array too short for m, n, k"))
    return nullptr;
  const View va = ta ? View{A, 1, m} : View{A, k, 1};
  const View vb = tb ? View{B, 1, k} : View{B, n, 1};
  if (m >= n) {
    parallel_ranges(m, MR, [&](int, int b, int e) {
      gemm(e - b, n, k, View{va.p + b * va.rs, va.rs, va.cs}, vb, C + (long)b * n, n, acc);
    });
  } else {
    parallel_ranges(n, NR, [&](int, int b, int e) {
      gemm(m, e - b, k, va, View{vb.p + b * vb.cs, vb.rs, vb.cs}, C + b, n, acc);
    });
  }
  return undefined_value(env);
}

// conv2d(x, w, bias | null, y, dims, relu): y = act(conv(x, w) + bias), NHWC, w [fh, fw, ci, co].
napi_value Conv2d(napi_env env, napi_callback_info info) {
  Args a;
  ConvShape s;
  float* t[4] = {};
  if (!read_args(env, info, a, 6) || !read_shape(a, 4, s) || !conv_arrays(a, s, "xw-y", t)) return nullptr;
  const float *X = t[0], *W = t[1];
  float* Y = t[3];
  napi_valuetype bias_type;
  napi_typeof(env, a.argv[2], &bias_type);
  size_t lb = 0;
  const float* bias = bias_type != napi_null && bias_type != napi_undefined ? f32(a, 2, lb) : nullptr;
  const bool relu = a.ok && i32(a, 5) != 0;
  if (!a.ok || !check(a, !bias || lb >= (size_t)s.co, "bias shorter than the output channels")) return nullptr;
  const long K = s.patch(), P = s.pixels();
  const Im2colTables tables(s);
  if (s.windows_inside()) {
    std::vector<float> wp((size_t)((s.co + NR - 1) / NR) * K * NR);
    pack_panels(W, K, s.co, s.co, wp.data());
    parallel_ranges(s.n, 1, [&](int, int b, int e) {
      for (int img = b; img < e; img++)
        direct_conv(P, K, tables.pixel.data(), tables.patch.data(), X + img * s.image(), wp.data(), s.co, Y + img * P * s.co, bias, relu);
    });
    return undefined_value(env);
  }
  parallel_ranges(s.n, 1, [&](int, int b, int e) {
    std::vector<float>& cols = t_scratch.cols;
    cols.resize(P * K);
    for (int img = b; img < e; img++) {
      float* y = Y + img * P * s.co;
      im2col(s, X + img * s.image(), cols.data());
      gemm(P, s.co, K, View{cols.data(), K, 1}, View{W, s.co, 1}, y, s.co, false);
      if (bias || relu)
        for (long p = 0; p < P; p++)
          for (int c = 0; c < s.co; c++) {
            float v = y[p * s.co + c] + (bias ? bias[c] : 0.f);
            y[p * s.co + c] = relu && v < 0.f ? 0.f : v;
          }
    }
  });
  return undefined_value(env);
}

// conv2dBackpropFilter(x, dy, dw, dims): dw [fh, fw, ci, co] = Σ_images im2col(x)ᵀ · dy.
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  Args a;
  ConvShape s;
  float* t[3] = {};
  if (!read_args(env, info, a, 4) || !read_shape(a, 3, s) || !conv_arrays(a, s, "xyw", t)) return nullptr;
  const float *X = t[0], *DY = t[1];
  float* DW = t[2];
  const long K = s.patch(), P = s.pixels();
  std::vector<std::vector<float>> partials(g_threads);
  const Im2colTables tables(s);
  const bool in_place = s.windows_inside();
  const int panels = (s.co + NR - 1) / NR;
  const int used = parallel_ranges(s.n, 1, [&](int t, int b, int e) {
    std::vector<float>& part = partials[t];
    part.assign(K * s.co, 0.f);
    std::vector<float>& buf = t_scratch.cols;
    buf.resize(in_place ? (size_t)panels * P * NR : (size_t)P * K);
    for (int img = b; img < e; img++) {
      const float* x = X + img * s.image();
      const float* dy = DY + img * P * s.co;
      if (!in_place) {
        im2col(s, x, buf.data());
        gemm(K, s.co, P, View{buf.data(), 1, K}, View{dy, s.co, 1}, part.data(), s.co, true);
        continue;
      }
      // direct: tile (6 patch entries × 16 channels) summed over the image's pixels
      pack_panels(dy, P, s.co, s.co, buf.data());
      for (long k0 = 0; k0 < K; k0 += MR) {
        const int h = (int)std::min<long>(MR, K - k0);
        const float* a[MR];
        for (int i = 0; i < MR; i++) a[i] = x + tables.patch[k0 + std::min(i, h - 1)];
        for (int j0 = 0; j0 < s.co; j0 += NR)
          tile(P, tables.pixel.data(), a, buf.data() + (long)(j0 / NR) * P * NR, part.data() + k0 * s.co + j0, s.co, h,
               std::min(NR, s.co - j0), Epilogue{true, nullptr, false});
      }
    }
  });
  std::memcpy(DW, partials[0].data(), sizeof(float) * K * s.co);
  for (int t = 1; t < used; t++)
    for (long i = 0; i < K * s.co; i++) DW[i] += partials[t][i];
  return undefined_value(env);
}

// conv2dBackpropInput(dy, w, dx, dims): dx, the adjoint of conv2d in x.
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  Args a;
  ConvShape s;
  float* t[3] = {};
  if (!read_args(env, info, a, 4) || !read_shape(a, 3, s) || !conv_arrays(a, s, "ywx", t)) return nullptr;
  const float *DY = t[0], *W = t[1];
  float* DX = t[2];
  const long K = s.patch(), P = s.pixels();
  const long pad_top = (long)(s.fh - 1) * s.dh - s.pt, pad_left = (long)(s.fw - 1) * s.dw - s.pl;
  if (s.sh == 1 && s.sw == 1 && pad_top >= 0 && pad_left >= 0) {
    // Stride 1: dx is the direct convolution of dy, zero-padded to q [qh, qw, co], with the filter
    // flipped in space and transposed in channels, w'[(a, b, o), c] = w[fh−1−a, fw−1−b, c, o].
    const long qh = s.h + (long)(s.fh - 1) * s.dh, qw = s.w + (long)(s.fw - 1) * s.dw;
    ConvShape q{1, (int)qh, (int)qw, s.co, s.ci, s.fh, s.fw, 1, 1, s.dh, s.dw, 0, 0, s.h, s.w};
    const Im2colTables tables(q);
    const long kq = q.patch();  // fh·fw·co
    std::vector<float> flipped(kq * s.ci), wp((size_t)((s.ci + NR - 1) / NR) * kq * NR);
    for (int a = 0; a < s.fh; a++)
      for (int b = 0; b < s.fw; b++)
        for (int o = 0; o < s.co; o++)
          for (int c = 0; c < s.ci; c++)
            flipped[(((long)a * s.fw + b) * s.co + o) * s.ci + c] = W[(((long)(s.fh - 1 - a) * s.fw + (s.fw - 1 - b)) * s.ci + c) * s.co + o];
    pack_panels(flipped.data(), kq, s.ci, s.ci, wp.data());
    parallel_ranges(s.n, 1, [&](int, int b, int e) {
      std::vector<float>& padded = t_scratch.cols;
      padded.assign(qh * qw * s.co, 0.f);
      for (int img = b; img < e; img++) {
        const float* dy = DY + img * P * s.co;
        for (int oy = 0; oy < s.oh; oy++) {
          const long qy = oy + pad_top;
          if (qy >= qh) break;
          const long cols = std::min<long>(s.ow, qw - pad_left);
          std::memcpy(padded.data() + (qy * qw + pad_left) * s.co, dy + (long)oy * s.ow * s.co, sizeof(float) * cols * s.co);
        }
        direct_conv((long)s.h * s.w, kq, tables.pixel.data(), tables.patch.data(), padded.data(), wp.data(), s.ci,
                    DX + img * s.image(), nullptr, false);
      }
    });
    return undefined_value(env);
  }
  // Strided: dcols = dy · wᵀ in blocks of MC pixels, each scattered back (col2im) while in cache.
  parallel_ranges(s.n, 1, [&](int, int b, int e) {
    std::vector<float>& cols = t_scratch.cols;
    cols.resize(MC * K);
    for (int img = b; img < e; img++) {
      float* dx = DX + img * s.image();
      std::fill(dx, dx + s.image(), 0.f);
      for (long p0 = 0; p0 < P; p0 += MC) {
        const long rows = std::min<long>(MC, P - p0);
        gemm((int)rows, K, s.co, View{DY + (img * P + p0) * s.co, s.co, 1}, View{W, 1, s.co}, cols.data(), K, false);
        col2im_add(s, cols.data(), p0, p0 + rows, dx);
      }
    }
  });
  return undefined_value(env);
}

// maxPoolGrad(x, dy, dx, dims): dims Int32Array [n, h, w, c, ph, pw, sh, sw, padTop, padLeft, oh, ow].
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, a, 4)) return nullptr;
  size_t lx, ldy, ldx;
  const float* X = f32(a, 0, lx);
  const float* DY = a.ok ? f32(a, 1, ldy) : nullptr;
  float* DX = a.ok ? f32(a, 2, ldx) : nullptr;
  const void* data = a.ok ? typed(a, 3, napi_int32_array, 12, "expected the 12 pooling dims as an Int32Array") : nullptr;
  if (!data) return nullptr;
  PoolShape s;
  std::memcpy(&s, data, sizeof(int32_t) * 12);
  const size_t image = (size_t)s.h * s.w * s.c;
  if (!check(a, s.n > 0 && s.h > 0 && s.w > 0 && s.c > 0 && s.ph > 0 && s.pw > 0 && s.sh > 0 && s.sw > 0 && s.oh > 0 && s.ow > 0,
             "pooling dims must be positive") ||
      !check(a, lx >= s.n * image && ldx >= s.n * image && ldy >= (size_t)s.n * s.oh * s.ow * s.c,
             "array too short for the pooling dims"))
    return nullptr;
  parallel_ranges(s.n, 1, [&](int, int b, int e) { max_pool_grad(s, X, DY, DX, b, e); });
  return undefined_value(env);
}

// dropoutMask(out, rate, seed): the inverted-dropout mask of src-main/bdl/models/mcDropout.ts,
// value for value — the same Mulberry32 stream, whose state after i steps is seed + i·0x6D2B79F5, so
// threads can start mid-stream. When rate·256 is an integer each draw gives four 8-bit decisions.
uint32_t mulberry32_at(uint32_t seed, uint64_t step) {
  uint32_t a = seed + (uint32_t)((step + 1) * 0x6D2B79F5ull);
  uint32_t t = (a ^ (a >> 15)) * (a | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return t ^ (t >> 14);
}

napi_value DropoutMask(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, a, 3)) return nullptr;
  size_t n;
  float* OUT = f32(a, 0, n);
  double rate = 0;
  uint32_t seed = 0;
  if (!a.ok) return nullptr;
  if (napi_get_value_double(env, a.argv[1], &rate) != napi_ok || napi_get_value_uint32(env, a.argv[2], &seed) != napi_ok) {
    napi_throw_type_error(env, nullptr, "expected a rate and a seed");
    return nullptr;
  }
  if (!check(a, rate >= 0 && rate < 1, "rate must be in [0, 1)")) return nullptr;
  const double keep = 1 - rate;
  const float scale = keep > 0 ? (float)(1 / keep) : 0.f;
  const double keep256 = keep * 256;
  if (keep256 == (double)(long)keep256) {
    const uint32_t thr = (uint32_t)keep256;
    const long groups = (long)(n / 4);
    parallel_ranges((int)std::min<long>(groups, 1L << 30), 4096, [&](int, int b, int e) {
      for (long g = b; g < e; g++) {
        const uint32_t t = mulberry32_at(seed, g);
        float* o = OUT + g * 4;
        o[0] = (t & 255) < thr ? scale : 0.f;
        o[1] = ((t >> 8) & 255) < thr ? scale : 0.f;
        o[2] = ((t >> 16) & 255) < thr ? scale : 0.f;
        o[3] = (t >> 24) < thr ? scale : 0.f;
      }
    });
    for (size_t i = groups * 4, step = groups; i < n; i++, step++) OUT[i] = (mulberry32_at(seed, step) & 255) < thr ? scale : 0.f;
  } else {
    const double thr = keep * 4294967296.0;
    parallel_ranges((int)std::min<size_t>(n, 1u << 30), 4096, [&](int, int b, int e) {
      for (long i = b; i < e; i++) OUT[i] = (double)mulberry32_at(seed, i) < thr ? scale : 0.f;
    });
  }
  return undefined_value(env);
}

// adamStep(x, m, v, g, xOut, mOut, vOut, [lr, β1, β2, ε, 1 − β1ᵗ, 1 − β2ᵗ]): one Adam step, in the
// order of tfjs' AdamOptimizer (float32 throughout), into new arrays.
napi_value AdamStep(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, a, 8)) return nullptr;
  size_t n[7];
  float* p[7];
  for (int i = 0; i < 7 && a.ok; i++) p[i] = f32(a, i, n[i]);
  if (!a.ok) return nullptr;
  const double* h = static_cast<const double*>(
      typed(a, 7, napi_float64_array, 6, "expected [lr, beta1, beta2, epsilon, 1 - beta1^t, 1 - beta2^t] as a Float64Array"));
  if (!h) return nullptr;
  for (int i = 1; i < 7; i++)
    if (!check(a, n[i] >= n[0], "arrays of different lengths")) return nullptr;
  const float neg_lr = (float)-h[0], b1 = (float)h[1], b2 = (float)h[2], eps = (float)h[3], c1 = (float)h[4], c2 = (float)h[5];
  const float one_b1 = (float)(1 - h[1]), one_b2 = (float)(1 - h[2]);
  const float *x = p[0], *m = p[1], *v = p[2], *g = p[3];
  float *xo = p[4], *mo = p[5], *vo = p[6];
  parallel_ranges((int)n[0], 4096, [&](int, int b, int e) {
    for (long i = b; i < e; i++) {
      const float m2 = m[i] * b1 + g[i] * one_b1;
      const float v2 = v[i] * b2 + (g[i] * g[i]) * one_b2;
      mo[i] = m2;
      vo[i] = v2;
      xo[i] = ((m2 / c1) / (std::sqrt(v2 / c2) + eps)) * neg_lr + x[i];
    }
  });
  return undefined_value(env);
}

// addRow(x, row, out, rows, cols): out[i, j] = x[i, j] + row[j] (a bias added over N·H·W).
napi_value AddRow(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, a, 5)) return nullptr;
  size_t lx, lr, lo;
  const float* X = f32(a, 0, lx);
  const float* R = a.ok ? f32(a, 1, lr) : nullptr;
  float* OUT = a.ok ? f32(a, 2, lo) : nullptr;
  const int rows = a.ok ? i32(a, 3) : 0, cols = a.ok ? i32(a, 4) : 0;
  if (!a.ok || !check(a, rows >= 0 && cols > 0 && lx >= (size_t)rows * cols && lo >= (size_t)rows * cols && lr >= (size_t)cols,
                      "bad rows/cols for addRow"))
    return nullptr;
  parallel_ranges(rows, 64, [&](int, int b, int e) {
    for (long i = b; i < e; i++) {
      const float* xi = X + i * cols;
      float* oi = OUT + i * cols;
      for (int j = 0; j < cols; j++) oi[j] = xi[j] + R[j];
    }
  });
  return undefined_value(env);
}

// columnSums(x, out, rows, cols): out[j] = Σ_i x[i, j] (a bias gradient: dy summed over N·H·W).
napi_value ColumnSums(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, a, 4)) return nullptr;
  size_t lx, lo;
  const float* X = f32(a, 0, lx);
  float* OUT = a.ok ? f32(a, 1, lo) : nullptr;
  const int rows = a.ok ? i32(a, 2) : 0, cols = a.ok ? i32(a, 3) : 0;
  if (!a.ok || !check(a, rows >= 0 && cols > 0 && lx >= (size_t)rows * cols && lo >= (size_t)cols, "bad rows/cols for columnSums"))
    return nullptr;
  std::vector<double> acc(cols, 0.0);
  for (long i = 0; i < rows; i++) {
    const float* r = X + i * cols;
    for (int j = 0; j < cols; j++) acc[j] += r[j];
  }
  for (int j = 0; j < cols; j++) OUT[j] = (float)acc[j];
  return undefined_value(env);
}

// setThreads(n) → n actually used (1..64).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, a, 1)) return nullptr;
  const int n = i32(a, 0);
  if (!a.ok || !check(a, n >= 1 && n <= 64, "threads must be in 1..64")) return nullptr;
  g_threads = n;
  napi_value out;
  napi_create_int32(env, g_threads, &out);
  return out;
}

napi_value Isa(napi_env env, napi_callback_info) {
  napi_value out;
  const char* isa = g_avx2 ? "avx2-fma" : "generic";
  napi_create_string_utf8(env, isa, NAPI_AUTO_LENGTH, &out);
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
#ifdef EPISTEME_X86
  __builtin_cpu_init();
  g_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && std::getenv("EPISTEME_NATIVE_GENERIC") == nullptr;
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  g_threads = std::max(1, std::min(4, (int)(hw == 0 ? 1 : hw)));
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"gemm", Gemm},
             {"conv2d", Conv2d},
             {"conv2dBackpropFilter", Conv2dBackpropFilter},
             {"conv2dBackpropInput", Conv2dBackpropInput},
             {"maxPoolGrad", MaxPoolGrad},
             {"columnSums", ColumnSums},
             {"addRow", AddRow},
             {"dropoutMask", DropoutMask},
             {"adamStep", AdamStep},
             {"setThreads", SetThreads},
             {"isa", Isa}};
  for (const auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  return exports;
}
