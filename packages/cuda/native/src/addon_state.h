// addon_state.h: what one instance of the addon (one JS environment) owns: the Completer that
// settles Promises, the default lane of each device, every lane made for a Stream, and the pool
// on which event waits block.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "lane.h"
#include "tensorwire/jobs.h"
#include "tensorwire/worker.h"

namespace twcuda {

class AddonState {
 public:
  explicit AddonState(Napi::Env env);
  ~AddonState();

  static AddonState& Of(Napi::Env env);

  const std::shared_ptr<tensorwire::Completer>& completer() const { return completer_; }
  /** Event waits: each blocks a thread of its own, so no wait holds up a lane. */
  tensorwire::ElasticPool& waits() { return *waits_; }

  /** The default lane of `device` (made on first use). */
  LanePtr DefaultLane(int device);
  /** A new lane for a Stream; kept here until the environment ends (see lane.h). */
  LanePtr NewLane(int device);

  /**
   * JS thread: run `job` on `lane`. Returns its Promise, or, when `sync`, waits for it on this
   * thread and returns undefined (throwing its error).
   */
  Napi::Value Run(Napi::Env env, const LanePtr& lane, std::unique_ptr<LaneJob> job, bool sync);

 private:
  static void Cleanup(void* arg);
  std::shared_ptr<tensorwire::Completer> completer_;
  std::vector<LanePtr> defaultLanes_;
  std::vector<LanePtr> lanes_;
  tensorwire::ElasticPool* waits_;
  bool cleanedUp_ = false;
  napi_env env_;
};

}  // namespace twcuda
