// The addon's module: GEMM, elementwise kernels (dropout masks, Adam, bias add and sums), thread
// count and ISA, and the table of every entry point.
#include <cmath>
#include <cstdlib>

#include "kernels.h"
#include "napi_args.h"

namespace episteme {

namespace {

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
}  // namespace episteme

using namespace episteme;

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

