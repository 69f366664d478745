// ucx_config.h: the UCP configuration an agent's context is created with. UCX reads every UCX_*
// environment variable as usual; on top of that the agent
//  - binds its network transports to loopback unless told otherwise. A worker's tcp interfaces
//    listen on every device UCX selects (UCX's default is all of them), and UCX endpoints are
//    unauthenticated: anyone who can reach the port can connect and, with a descriptor, read
//    registered memory. The control plane and gloo bind loopback by default; so does this.
//  - shortens the keepalive interval so a dead peer on another host surfaces within seconds.
// A UCX_* variable the user set always wins over these defaults.
#pragma once

#include <ucp/api/ucp.h>

#include <memory>
#include <string>

namespace twnixl {

/** UCX_NET_DEVICES value for "loopback only" (the Linux loopback interface). */
inline constexpr const char* kLoopbackNetDevices = "lo";

struct UcpConfigRelease {
  void operator()(ucp_config_t* c) const { ucp_config_release(c); }
};
using UcpConfigPtr = std::unique_ptr<ucp_config_t, UcpConfigRelease>;

/**
 * Read the agent's UCP config. `netDevices` is a UCX_NET_DEVICES list ("lo", "eth0",
 * "mlx5_0:1,eth0", "all"); empty means loopback only. UCX_NET_DEVICES in the environment wins.
 * `*effective` receives the device list in force. Throws CodedError("UCX_INIT_FAILED").
 */
UcpConfigPtr ReadAgentConfig(const std::string& netDevices, std::string* effective);

}  // namespace twnixl
