// reduce.cc: element-wise reductions for every NCCL data type. float16, bfloat16 and the two fp8
// formats are computed in float and rounded back to nearest (ties to even), saturating the fp8
// formats at their largest finite value as CUDA's conversions do by default.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "mock_nccl.h"

namespace twmn {

namespace {

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    f = mant ? NAN : INFINITY;
  } else {
    f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= sign;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7e00;
  if (a >= 65520.0f) return sign | 0x7c00;  // rounds to infinity
  if (a < std::ldexp(1.0f, -14)) {          // subnormal: multiples of 2^-24
    float q = std::nearbyint(a * 16777216.0f);
    return sign | static_cast<uint16_t>(q);
  }
  int e;
  float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  float scaled = std::nearbyint(m * 2048.0f);  // 11 significant bits
  if (scaled >= 2048.0f) {
    scaled /= 2;
    e++;
  }
  uint16_t exp = static_cast<uint16_t>(e - 1 + 15);
  if (exp >= 31) return sign | 0x7c00;
  return sign | static_cast<uint16_t>(exp << 10) | (static_cast<uint16_t>(scaled) & 0x3ff);
}

float Bf16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

/** An fp8 format: exponent bits and bias; e4m3 has no infinities (its top code is NaN). */
struct Fp8 {
  int expBits, mantBits, bias;
  bool ieee;  // e5m2: infinities and NaNs as IEEE; e4m3fn: only S.1111.111 is NaN
};
constexpr Fp8 kE4m3{4, 3, 7, false};
constexpr Fp8 kE5m2{5, 2, 15, true};

float Fp8ToFloat(uint8_t v, const Fp8& t) {
  int sign = v >> 7;
  int exp = (v >> t.mantBits) & ((1 << t.expBits) - 1);
  int mant = v & ((1 << t.mantBits) - 1);
  int maxExp = (1 << t.expBits) - 1;
  float f;
  if (t.ieee && exp == maxExp) f = mant ? NAN : INFINITY;
  else if (!t.ieee && exp == maxExp && mant == (1 << t.mantBits) - 1) f = NAN;
  else if (exp == 0) f = std::ldexp(static_cast<float>(mant), 1 - t.bias - t.mantBits);
  else f = std::ldexp(static_cast<float>(mant | (1 << t.mantBits)), exp - t.bias - t.mantBits);
  return sign ? -f : f;
}

uint8_t FloatToFp8(float f, const Fp8& t) {
  uint8_t sign = std::signbit(f) ? 0x80 : 0;
  if (std::isnan(f)) return static_cast<uint8_t>(0x7f);
  float a = std::fabs(f);
  // The largest finite code, then search the positive codes (monotonic) for the nearest value.
  int maxCode = t.ieee ? ((((1 << t.expBits) - 2) << t.mantBits) | ((1 << t.mantBits) - 1)) : 0x7e;
  if (a >= Fp8ToFloat(static_cast<uint8_t>(maxCode), t)) return sign | static_cast<uint8_t>(maxCode);
  int lo = 0, hi = maxCode;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (Fp8ToFloat(static_cast<uint8_t>(mid), t) <= a) lo = mid;
    else hi = mid;
  }
  float dl = a - Fp8ToFloat(static_cast<uint8_t>(lo), t), dh = Fp8ToFloat(static_cast<uint8_t>(hi), t) - a;
  int code = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
  return sign | static_cast<uint8_t>(code);
}

template <typename T>
T Apply(T a, T b, ncclRedOp_t op) {
  switch (op) {
    case ncclSum: return static_cast<T>(a + b);
    case ncclProd: return static_cast<T>(a * b);
    case ncclMax: return a > b ? a : b;
    case ncclMin: return a < b ? a : b;
    default: return static_cast<T>(a + b);
  }
}

template <typename T>
void ReduceAs(void* dst, const void* src, size_t count, ncclRedOp_t op) {
  auto* d = static_cast<T*>(dst);
  const auto* s = static_cast<const T*>(src);
  for (size_t i = 0; i < count; i++) d[i] = Apply<T>(d[i], s[i], op);
}

template <typename Bits, typename ToF, typename FromF>
void ReduceVia(void* dst, const void* src, size_t count, ncclRedOp_t op, ToF to, FromF from) {
  auto* d = static_cast<Bits*>(dst);
  const auto* s = static_cast<const Bits*>(src);
  for (size_t i = 0; i < count; i++) d[i] = from(Apply<float>(to(d[i]), to(s[i]), op));
}

template <typename T>
void DivideAs(void* dst, size_t count, int n) {
  auto* d = static_cast<T*>(dst);
  for (size_t i = 0; i < count; i++) d[i] = static_cast<T>(d[i] / static_cast<T>(n));
}

template <typename Bits, typename ToF, typename FromF>
void DivideVia(void* dst, size_t count, int n, ToF to, FromF from) {
  auto* d = static_cast<Bits*>(dst);
  for (size_t i = 0; i < count; i++) d[i] = from(to(d[i]) / static_cast<float>(n));
}

}  // namespace

size_t TypeSize(ncclDataType_t type) {
  switch (type) {
    case ncclInt8: case ncclUint8: case ncclFloat8e4m3: case ncclFloat8e5m2: return 1;
    case ncclFloat16: case ncclBfloat16: return 2;
    case ncclInt32: case ncclUint32: case ncclFloat32: return 4;
    case ncclInt64: case ncclUint64: case ncclFloat64: return 8;
    default: return 0;
  }
}

void Reduce(void* dst, const void* src, size_t count, ncclDataType_t type, ncclRedOp_t op) {
  switch (type) {
    case ncclInt8: return ReduceAs<int8_t>(dst, src, count, op);
    case ncclUint8: return ReduceAs<uint8_t>(dst, src, count, op);
    case ncclInt32: return ReduceAs<int32_t>(dst, src, count, op);
    case ncclUint32: return ReduceAs<uint32_t>(dst, src, count, op);
    case ncclInt64: return ReduceAs<int64_t>(dst, src, count, op);
    case ncclUint64: return ReduceAs<uint64_t>(dst, src, count, op);
    case ncclFloat32: return ReduceAs<float>(dst, src, count, op);
    case ncclFloat64: return ReduceAs<double>(dst, src, count, op);
    case ncclFloat16: return ReduceVia<uint16_t>(dst, src, count, op, HalfToFloat, FloatToHalf);
    case ncclBfloat16: return ReduceVia<uint16_t>(dst, src, count, op, Bf16ToFloat, FloatToBf16);
    case ncclFloat8e4m3:
      return ReduceVia<uint8_t>(dst, src, count, op, [](uint8_t v) { return Fp8ToFloat(v, kE4m3); },
                                [](float f) { return FloatToFp8(f, kE4m3); });
    case ncclFloat8e5m2:
      return ReduceVia<uint8_t>(dst, src, count, op, [](uint8_t v) { return Fp8ToFloat(v, kE5m2); },
                                [](float f) { return FloatToFp8(f, kE5m2); });
    default: return;
  }
}

void DivideBy(void* dst, size_t count, ncclDataType_t type, int n) {
  switch (type) {
    case ncclInt8: return DivideAs<int8_t>(dst, count, n);
    case ncclUint8: return DivideAs<uint8_t>(dst, count, n);
    case ncclInt32: return DivideAs<int32_t>(dst, count, n);
    case ncclUint32: return DivideAs<uint32_t>(dst, count, n);
    case ncclInt64: return DivideAs<int64_t>(dst, count, n);
    case ncclUint64: return DivideAs<uint64_t>(dst, count, n);
    case ncclFloat32: return DivideAs<float>(dst, count, n);
    case ncclFloat64: return DivideAs<double>(dst, count, n);
    case ncclFloat16: return DivideVia<uint16_t>(dst, count, n, HalfToFloat, FloatToHalf);
    case ncclBfloat16: return DivideVia<uint16_t>(dst, count, n, Bf16ToFloat, FloatToBf16);
    case ncclFloat8e4m3:
      return DivideVia<uint8_t>(dst, count, n, [](uint8_t v) { return Fp8ToFloat(v, kE4m3); }, [](float f) { return FloatToFp8(f, kE4m3); });
    case ncclFloat8e5m2:
      return DivideVia<uint8_t>(dst, count, n, [](uint8_t v) { return Fp8ToFloat(v, kE5m2); }, [](float f) { return FloatToFp8(f, kE5m2); });
    default: return;
  }
}

}  // namespace twmn
