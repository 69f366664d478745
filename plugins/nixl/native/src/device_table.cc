// device_table.cc: see device_table.h.
#include "device_table.h"

namespace twnixl {

void DeviceTable::Add(uint32_t id, const Entry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  live_[id] = entry;
}

DeviceTable::PinResult DeviceTable::Pin(uint32_t id, uint64_t token, uint64_t size, Entry* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(id);
  if (it == live_.end() || it->second.token != token || token == 0) return PinResult::kReleased;
  if (it->second.size != size) return PinResult::kBadSize;
  *out = it->second;
  pins_[id]++;
  return PinResult::kOk;
}

void DeviceTable::Unpin(uint32_t id) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pins_.find(id);
    if (it == pins_.end()) return;
    if (--it->second > 0) return;
    pins_.erase(it);
    auto w = waiters_.find(id);
    if (w != waiters_.end()) {
      ready.swap(w->second);
      waiters_.erase(w);
    }
  }
  for (auto& fn : ready) fn();
}

void DeviceTable::Remove(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(id);
}

bool DeviceTable::WhenIdle(uint32_t id, std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pins_.find(id) == pins_.end()) return false;
  waiters_[id].push_back(std::move(fn));
  return true;
}

size_t DeviceTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.size();
}

}  // namespace twnixl
