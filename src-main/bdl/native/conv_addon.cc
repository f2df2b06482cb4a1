// Node-API entry points of the convolution and pooling kernels: argument checks, then the work
// split over images with parallel_ranges.
#include "kernels.h"
#include "napi_args.h"

namespace episteme {

namespace {

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

}  // namespace

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

}  // namespace episteme
