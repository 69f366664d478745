// config.cc: the mock's configuration (environment, injected failures) and call counting.
#include <cstdlib>
#include <sstream>

#include "mock.h"

namespace twmock {

State& S() {
  static State* state = new State();  // never destroyed: streams' threads may outlive static teardown
  return *state;
}

bool ParseBytes(const std::string& text, size_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(value >= 0)) return false;
  std::string suffix(end);
  double scale = 1;
  if (suffix == "K" || suffix == "k") scale = 1024.0;
  else if (suffix == "M" || suffix == "m") scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g") scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty()) return false;
  out = static_cast<size_t>(value * scale);
  return true;
}

bool AddInjections(const std::string& spec, std::string& error) {
  std::stringstream items(spec);
  std::string item;
  std::vector<Injection> parsed;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    std::vector<std::string> parts;
    std::stringstream fields(item);
    std::string field;
    while (std::getline(fields, field, ':')) parts.push_back(field);
    if (parts.size() < 2 || parts.size() > 4 || parts[0].empty()) {
      error = "expected function:result[:skip[:count]], got '" + item + "'";
      return false;
    }
    Injection inj;
    inj.function = parts[0];
    char* end = nullptr;
    inj.result = static_cast<CUresult>(std::strtol(parts[1].c_str(), &end, 10));
    bool ok = *end == '\0';
    if (parts.size() > 2) inj.skip = std::strtol(parts[2].c_str(), &end, 10), ok = ok && *end == '\0';
    if (parts.size() > 3) inj.count = std::strtol(parts[3].c_str(), &end, 10), ok = ok && *end == '\0';
    if (!ok) {
      error = "numbers expected in '" + item + "'";
      return false;
    }
    parsed.push_back(inj);
  }
  for (auto& inj : parsed) S().injections.push_back(inj);
  return true;
}

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

/** The driver's reading of CUDA_VISIBLE_DEVICES: indices up to the first invalid entry. */
std::vector<int> VisibleDevices(int physical) {
  std::vector<int> out;
  const char* raw = std::getenv("CUDA_VISIBLE_DEVICES");
  if (!raw) {
    for (int i = 0; i < physical; i++) out.push_back(i);
    return out;
  }
  std::stringstream items(raw);
  std::string item;
  while (std::getline(items, item, ',')) {
    char* end = nullptr;
    long index = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || index < 0 || index >= physical) break;
    bool seen = false;
    for (int d : out) seen = seen || d == index;
    if (seen) break;
    out.push_back(static_cast<int>(index));
  }
  return out;
}

}  // namespace

void ConfigureLocked() {
  State& s = S();
  if (s.configured) return;
  s.configured = true;
  std::string devices = Env("TENSORWIRE_MOCK_CUDA_DEVICES");
  if (!devices.empty()) {
    long n = std::strtol(devices.c_str(), nullptr, 10);
    s.physicalDevices = n < 0 ? 0 : n > kMaxDevices ? kMaxDevices : static_cast<int>(n);
  }
  size_t bytes = 0;
  if (ParseBytes(Env("TENSORWIRE_MOCK_CUDA_MEMORY"), bytes)) s.memoryPerDevice = bytes;
  std::string error;
  AddInjections(Env("TENSORWIRE_MOCK_CUDA_FAIL"), error);  // a malformed list injects nothing
  std::string delay = Env("TENSORWIRE_MOCK_CUDA_DELAY_US");
  if (!delay.empty()) s.delayUs = std::strtol(delay.c_str(), nullptr, 10);
  s.peerAccess = Env("TENSORWIRE_MOCK_CUDA_PEER_ACCESS") != "0";
  s.visible = VisibleDevices(s.physicalDevices);
  for (size_t i = 0; i < s.visible.size(); i++) {
    auto ctx = std::make_unique<Context>();
    ctx->ordinal = static_cast<int>(i);
    ctx->physical = s.visible[i];
    s.contexts.push_back(std::move(ctx));
  }
  for (int d = 0; d < kMaxDevices; d++) {
    s.nextAlloc[d] = kDeviceBase + d * kDeviceSpan + 0x200000;  // never 0 or the range's first byte
    s.nextImport[d] = kDeviceBase + d * kDeviceSpan + kImportOffset;
  }
}

CUresult Enter(const char* function) {
  State& s = S();
  std::lock_guard<std::mutex> lock(s.mu);
  ConfigureLocked();
  s.calls[function]++;
  for (auto it = s.injections.begin(); it != s.injections.end(); ++it) {
    if (it->function != function) continue;
    if (it->skip > 0) {
      it->skip--;
      return CUDA_SUCCESS;
    }
    CUresult r = it->result;
    if (it->count > 0 && --it->count == 0) s.injections.erase(it);
    return r;
  }
  return CUDA_SUCCESS;
}

int OrdinalOf(int physical) {
  State& s = S();
  for (size_t i = 0; i < s.visible.size(); i++)
    if (s.visible[i] == physical) return static_cast<int>(i);
  return -1;
}

}  // namespace twmock
