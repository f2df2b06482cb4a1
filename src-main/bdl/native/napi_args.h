// Reading and checking Node-API arguments: every failure throws a JS TypeError / RangeError and
// marks the call failed, so entry points return early and the process stays up.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace episteme {

struct Args {
  napi_env env;
  size_t argc = 10;
  napi_value argv[10];
  bool ok = true;
};

// A Float32Array over a plain ArrayBuffer (its length in `length`), or null with a TypeError.
float* f32(Args& a, size_t i, size_t& length);
int32_t i32(Args& a, size_t i);
bool read_args(napi_env env, napi_callback_info info, Args& a, size_t want);
// False (with a RangeError carrying `message`) when `cond` fails or an earlier argument did.
bool check(Args& a, bool cond, const char* message);
// A typed array of exactly `len` elements of `type`, or null (with a TypeError naming `what`).
const void* typed(Args& a, size_t i, napi_typedarray_type type, size_t len, const char* what);
napi_value undefined_value(napi_env env);

// The convolution entry points (conv_addon.cc), registered by addon.cc.
napi_value Conv2d(napi_env env, napi_callback_info info);
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info);
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info);
napi_value MaxPoolGrad(napi_env env, napi_callback_info info);

}  // namespace episteme
