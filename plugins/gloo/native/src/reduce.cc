#include "reduce.h"

#include <gloo/math.h>
#include <gloo/types.h>

#include <cstdint>

namespace tensorwire_gloo {
namespace {

using RawReduce = void (*)(void*, const void*, const void*, size_t);

template <typename T>
bool Pick(const std::string& op, ReduceSpec* out) {
  // gloo::sum & co. are overloaded: the cast picks the (out, a, b, n) form Gloo calls.
  RawReduce fn = nullptr;
  if (op == "sum") fn = static_cast<RawReduce>(&gloo::sum<T>);
  else if (op == "prod" || op == "product") fn = static_cast<RawReduce>(&gloo::product<T>);
  else if (op == "min") fn = static_cast<RawReduce>(&gloo::min<T>);
  else if (op == "max") fn = static_cast<RawReduce>(&gloo::max<T>);
  else return false;
  out->elementSize = sizeof(T);
  out->fn = fn;
  return true;
}

}  // namespace

bool LookupReduce(const std::string& dtype, const std::string& op, ReduceSpec* out) {
  if (dtype == "float32" || dtype == "float") return Pick<float>(op, out);
  if (dtype == "float64" || dtype == "double") return Pick<double>(op, out);
  if (dtype == "float16" || dtype == "half") return Pick<gloo::float16>(op, out);
  if (dtype == "int8") return Pick<int8_t>(op, out);
  if (dtype == "int16" || dtype == "short") return Pick<int16_t>(op, out);
  if (dtype == "int32" || dtype == "int") return Pick<int32_t>(op, out);
  if (dtype == "int64" || dtype == "long") return Pick<int64_t>(op, out);
  if (dtype == "uint8" || dtype == "byte") return Pick<uint8_t>(op, out);
  if (dtype == "uint16") return Pick<uint16_t>(op, out);
  if (dtype == "uint32") return Pick<uint32_t>(op, out);
  if (dtype == "uint64") return Pick<uint64_t>(op, out);
  return false;
}

}  // namespace tensorwire_gloo
