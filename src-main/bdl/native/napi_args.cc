#include "napi_args.h"

namespace episteme {

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

napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

}  // namespace episteme
