// control.cc: twmock_control, the mock's own entry point for tests (not part of the CUDA API).
// The addon finds it with dlsym on the library it loaded; a real driver has no such symbol.
//
//   int twmock_control(const char* command, char* out, size_t outBytes)
//   returns 0 and writes the answer (JSON or "ok") to `out`, or -1 and writes the error.
// Commands:
//   stats                   {"devices":[...],"memoryPerDevice":N,"allocations":N,"allocatedBytes":N,
//                            "imports":N,"streams":N,"events":N,"pinnedAllocations":N,
//                            "pinnedBytes":N,"calls":{"cuMemAlloc_v2":N,...}}
//   fail <fn:result[:skip[:count]],...>   inject failures (see mock.h)
//   clear-failures          remove every injected failure
//   reset-calls             zero the call counters
//   memory <bytes>          device memory size per device (e.g. 64M)
//   delay <microseconds>    extra time every stream operation takes
//   peer-access <0|1>       whether two devices can access each other's memory
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include "mock.h"

using namespace twmock;

namespace {

int Answer(char* out, size_t outBytes, const std::string& text, int status) {
  if (out && outBytes > 0) {
    std::snprintf(out, outBytes, "%s", text.c_str());
    if (text.size() >= outBytes) return -1;  // truncated: the caller's buffer is too small
  }
  return status;
}

size_t PinnedBytes(const State& s) {
  size_t bytes = 0;
  for (auto& [address, size] : s.pinned) bytes += size;
  return bytes;
}

std::string Stats() {
  State& s = S();
  std::ostringstream json;
  size_t allocations = 0, bytes = 0, imports = 0;
  for (auto& [base, b] : s.blocks) {
    if (b->imported) imports++;
    else allocations++, bytes += b->size;
  }
  json << "{\"physicalDevices\":" << s.physicalDevices << ",\"visible\":[";
  for (size_t i = 0; i < s.visible.size(); i++) json << (i ? "," : "") << s.visible[i];
  json << "],\"memoryPerDevice\":" << s.memoryPerDevice << ",\"allocations\":" << allocations
       << ",\"allocatedBytes\":" << bytes << ",\"imports\":" << imports << ",\"streams\":" << s.liveStreams
       << ",\"events\":" << s.liveEvents << ",\"pinnedAllocations\":" << s.pinned.size()
       << ",\"pinnedBytes\":" << PinnedBytes(s) << ",\"peerAccess\":" << (s.peerAccess ? "true" : "false")
       << ",\"peerEnabled\":[";
  for (size_t i = 0; i < s.peerEnabled.size(); i++)
    json << (i ? "," : "") << "[" << s.peerEnabled[i].first << "," << s.peerEnabled[i].second << "]";
  json << "],\"calls\":{";
  bool first = true;
  for (auto& [name, n] : s.calls) {
    json << (first ? "" : ",") << "\"" << name << "\":" << n;
    first = false;
  }
  json << "}}";
  return json.str();
}

}  // namespace

extern "C" TWMOCK_API int twmock_control(const char* command, char* out, size_t outBytes) {
  std::string line = command ? command : "";
  std::string verb = line.substr(0, line.find(' '));
  std::string arg = line.size() > verb.size() ? line.substr(verb.size() + 1) : "";
  std::lock_guard<std::mutex> lock(S().mu);
  ConfigureLocked();
  if (verb == "stats") return Answer(out, outBytes, Stats(), 0);
  if (verb == "fail") {
    std::string error;
    if (!AddInjections(arg, error)) return Answer(out, outBytes, error, -1);
    return Answer(out, outBytes, "ok", 0);
  }
  if (verb == "clear-failures") {
    S().injections.clear();
    return Answer(out, outBytes, "ok", 0);
  }
  if (verb == "reset-calls") {
    S().calls.clear();
    return Answer(out, outBytes, "ok", 0);
  }
  if (verb == "memory") {
    size_t bytes = 0;
    if (!ParseBytes(arg, bytes)) return Answer(out, outBytes, "memory: expected a size such as 64M, got '" + arg + "'", -1);
    S().memoryPerDevice = bytes;
    return Answer(out, outBytes, "ok", 0);
  }
  if (verb == "delay") {
    S().delayUs = std::strtol(arg.c_str(), nullptr, 10);
    return Answer(out, outBytes, "ok", 0);
  }
  if (verb == "peer-access") {
    if (arg != "0" && arg != "1") return Answer(out, outBytes, "peer-access: expected 0 or 1, got '" + arg + "'", -1);
    S().peerAccess = arg == "1";
    return Answer(out, outBytes, "ok", 0);
  }
  return Answer(out, outBytes,
                "unknown command '" + verb + "' (stats, fail, clear-failures, reset-calls, memory, delay, peer-access)", -1);
}
