// addon_state.cc: see addon_state.h.
#include "addon_state.h"

#include <future>

#include "devices.h"
#include "tensorwire/errors.h"

namespace twcuda {

AddonState::AddonState(Napi::Env env)
    : completer_(tensorwire::Completer::Create(env, "tensorwire-cuda")), waits_(new tensorwire::ElasticPool()), env_(env) {
  napi_add_env_cleanup_hook(env, &AddonState::Cleanup, this);
}

AddonState::~AddonState() {
  napi_remove_env_cleanup_hook(env_, &AddonState::Cleanup, this);
  Cleanup(this);
}

AddonState& AddonState::Of(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

void AddonState::Cleanup(void* arg) {
  auto* self = static_cast<AddonState*>(arg);
  if (self->cleanedUp_) return;
  self->cleanedUp_ = true;
  // Process exit: queued copies get a moment to finish; a thread still stuck in the driver after
  // that is detached. Lanes and the pool are left allocated on purpose: a detached thread may
  // still touch them while the process ends.
  auto* leaked = new std::vector<LanePtr>();
  for (auto& lane : self->defaultLanes_)
    if (lane) lane->ShutdownFor(std::chrono::milliseconds(1000)), leaked->push_back(lane);
  for (auto& lane : self->lanes_) lane->ShutdownFor(std::chrono::milliseconds(1000)), leaked->push_back(lane);
  self->waits_->ShutdownFor(std::chrono::milliseconds(100));
}

LanePtr AddonState::DefaultLane(int device) {
  CheckDevice(device);
  if (defaultLanes_.size() <= static_cast<size_t>(device)) defaultLanes_.resize(static_cast<size_t>(device) + 1);
  LanePtr& lane = defaultLanes_[static_cast<size_t>(device)];
  if (!lane) lane = Lane::Create(device, true);
  return lane;
}

LanePtr AddonState::NewLane(int device) {
  CheckDevice(device);
  LanePtr lane = Lane::Create(device, false);
  lanes_.push_back(lane);
  return lane;
}

Napi::Value AddonState::Run(Napi::Env env, const LanePtr& lane, std::unique_ptr<LaneJob> job, bool sync) {
  if (lane->retired()) tensorwire::ThrowError(env, "the stream was destroyed", "CUDA_STREAM_DESTROYED");
  job->Prepare();
  if (!sync) return tensorwire::Submit(env, *lane, completer_, std::move(job), "CUDA_STREAM_DESTROYED");
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  LaneJob* raw = job.get();
  if (!lane->Post([raw, &done] {
        raw->Run();
        done.set_value();
      })) {
    tensorwire::ThrowError(env, "the stream was destroyed", "CUDA_STREAM_DESTROYED");
  }
  finished.wait();
  if (raw->failed()) throw tensorwire::MakeError(env, raw->error());
  return env.Undefined();
}

}  // namespace twcuda
