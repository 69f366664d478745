// addon_data.h: per-environment state of the addon (one Completer settles every Promise).
#pragma once

#include <napi.h>

#include <memory>

#include "tensorwire/jobs.h"

namespace twnccl {

struct AddonData {
  std::shared_ptr<tensorwire::Completer> completer;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace twnccl
