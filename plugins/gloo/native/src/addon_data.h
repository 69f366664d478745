// addon_data.h: per-environment state of the addon (one Completer settles every Promise).
#pragma once

#include <napi.h>
#include <tensorwire/jobs.h>

#include <memory>

namespace tensorwire_gloo {

struct AddonData {
  std::shared_ptr<tensorwire::Completer> completer;
  Napi::FunctionReference groupConstructor;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace tensorwire_gloo
