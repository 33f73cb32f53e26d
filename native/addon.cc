// The JavaScript face of the native feature kernel: argument checks (the same messages as the TypeScript
// twin's), then a straight call into features.cc. Outputs are written into caller-owned typed arrays so a
// worker can allocate them once per batch and transfer them back without a copy.
#include <napi.h>

#include <cmath>
#include <string>

#include "features.h"

namespace {

using scenescope::kGridSize;
using scenescope::kHashWords;
using scenescope::kHistBins;
using scenescope::kScalarCount;

void ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
}

void ThrowRange(Napi::Env env, const std::string& message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
}

bool IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min, double max, double* out) {
  const Napi::Value value = info[index];
  if (!value.IsNumber()) {
    ThrowType(info.Env(), std::string(name) + " must be a number");
    return false;
  }
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!(v >= min && v <= max) || v != std::floor(v)) {
    ThrowRange(info.Env(), std::string(name) + " must be an integer between " + std::to_string(static_cast<int64_t>(min)) +
                               " and " + std::to_string(static_cast<int64_t>(max)));
    return false;
  }
  *out = v;
  return true;
}

template <typename T>
bool TypedArg(const Napi::CallbackInfo& info, size_t index, const char* name, const char* typeName, napi_typedarray_type type,
              double expected, T** data) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowType(info.Env(), std::string(name) + " must be a " + typeName);
    return false;
  }
  Napi::TypedArrayOf<T> array = value.As<Napi::TypedArrayOf<T>>();
  const double length = static_cast<double>(array.ElementLength());
  if (length != expected) {
    ThrowRange(info.Env(), std::string(name) + " must have length " + std::to_string(static_cast<int64_t>(expected)) +
                               " but has " + std::to_string(static_cast<int64_t>(length)));
    return false;
  }
  *data = array.Data();
  return true;
}

// compute(frames, width, height, count, hasPrev, scalars, hist, hash, grid): void
Napi::Value Compute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double width, height, count;
  if (!IntegerArg(info, 1, "width", scenescope::kMinSide, scenescope::kMaxSide, &width)) return env.Undefined();
  if (!IntegerArg(info, 2, "height", scenescope::kMinSide, scenescope::kMaxSide, &height)) return env.Undefined();
  if (!IntegerArg(info, 3, "count", 0, 2147483647.0, &count)) return env.Undefined();
  if (!info[4].IsBoolean()) {
    ThrowType(env, "hasPrev must be a boolean");
    return env.Undefined();
  }
  const bool hasPrev = info[4].As<Napi::Boolean>().Value();
  const double frameCount = count + (hasPrev ? 1 : 0);
  uint8_t* frames;
  double* scalars;
  uint32_t* hist;
  uint32_t* hash;
  uint8_t* grid;
  if (!TypedArg(info, 0, "frames", "Uint8Array", napi_uint8_array, frameCount * width * height * 3, &frames) ||
      !TypedArg(info, 5, "scalars", "Float64Array", napi_float64_array, count * kScalarCount, &scalars) ||
      !TypedArg(info, 6, "hist", "Uint32Array", napi_uint32_array, count * kHistBins, &hist) ||
      !TypedArg(info, 7, "hash", "Uint32Array", napi_uint32_array, count * kHashWords, &hash) ||
      !TypedArg(info, 8, "grid", "Uint8Array", napi_uint8_array, count * kGridSize, &grid)) {
    return env.Undefined();
  }
  scenescope::ComputeBatch(frames, static_cast<int>(width), static_cast<int>(height), static_cast<int>(count), hasPrev,
                           scenescope::BatchOutput{scalars, hist, hash, grid});
  return env.Undefined();
}

// cosTable(): Int32Array (8 x 32), for the parity test.
Napi::Value CosTable(const Napi::CallbackInfo& info) {
  Napi::Int32Array table = Napi::Int32Array::New(info.Env(), 8 * 32);
  const int32_t* source = scenescope::CosTable();
  for (size_t i = 0; i < 8 * 32; ++i) table[i] = source[i];
  return table;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("compute", Napi::Function::New(env, Compute, "compute"));
  exports.Set("cosTable", Napi::Function::New(env, CosTable, "cosTable"));
  exports.Set("version", Napi::String::New(env, scenescope::kKernelVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(scenescope_native, Init)
