// ucx_config.cc: the agent's UCP configuration (see ucx_config.h for why each setting).
#include "ucx_config.h"

#include <cstdlib>

#include "ucx_status.h"

namespace twnixl {

namespace {

/** Set `name` (UCX_<name>) unless the user set it in the environment; returns the value in force. */
std::string DefaultUnlessSet(ucp_config_t* config, const char* name, const std::string& value) {
  const std::string var = std::string("UCX_") + name;
  if (const char* fromEnv = std::getenv(var.c_str())) return fromEnv;
  ucs_status_t st = ucp_config_modify(config, name, value.c_str());
  if (st != UCS_OK) ThrowUcs("UCX_INIT_FAILED", "ucp_config_modify(" + var + "=" + value + ")", st);
  return value;
}

}  // namespace

UcpConfigPtr ReadAgentConfig(const std::string& netDevices, std::string* effective) {
  ucp_config_t* raw = nullptr;
  ucs_status_t st = ucp_config_read(nullptr, nullptr, &raw);
  if (st != UCS_OK) ThrowUcs("UCX_INIT_FAILED", "ucp_config_read", st);
  UcpConfigPtr config(raw);
  *effective = DefaultUnlessSet(config.get(), "NET_DEVICES", netDevices.empty() ? kLoopbackNetDevices : netDevices);
  DefaultUnlessSet(config.get(), "KEEPALIVE_INTERVAL", "1s");
  return config;
}

}  // namespace twnixl
