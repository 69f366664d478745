// bare_bench.h: the "bare NCCL" ceiling of the benchmark: two ranks ping-pong a device buffer
// with ncclSend/ncclRecv on a blocking communicator of their own and cuStreamSynchronize, with
// none of the transport's machinery (no control channel, no events, no engine thread).
//
//   barePingPong({ uniqueId, rank, device, stream, ptr, sizes, reps, warmup }): Promise<number[][]>
//       rank 0 resolves with the round-trip times (ns) per size; rank 1 with empty lists
#pragma once

#include <napi.h>

namespace twnccl {

Napi::Value BarePingPong(const Napi::CallbackInfo& info);

}  // namespace twnccl
