// reduce.h: allreduce element types and operations.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace tensorwire_gloo {

/** Gloo's reduction callback: out[i] = op(a[i], b[i]) for n elements. */
using ReduceFn = std::function<void(void*, const void*, const void*, size_t)>;

struct ReduceSpec {
  size_t elementSize = 0;
  ReduceFn fn;
};

/**
 * dtype: float32 float64 float16 int8 int16 int32 int64 uint8 uint16 uint32 uint64 (also
 * torch-style aliases float, double, half, int, long, byte); op: sum prod min max.
 * Returns false (spec untouched) for an unknown dtype or op.
 */
bool LookupReduce(const std::string& dtype, const std::string& op, ReduceSpec* out);

}  // namespace tensorwire_gloo
