// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_TOOLS_CONTROL_SOCKET_H
#define PHONEPROV_TOOLS_CONTROL_SOCKET_H

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace phoneprov {
namespace tools {

/// @brief No answer from a control socket: it cannot be reached, or said nothing
/// whole in time, or what it said is not a Kea answer.
class ControlSocketError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief Sends one command on a Kea control socket (kea-dhcp4's unix socket) and
/// returns the answer: an object with an integer `result` (a list of one answer, as
/// kea-ctrl-agent gives, is unwrapped). Used by `resync`, `list` and `get`.
/// @throw ControlSocketError naming the socket.
nlohmann::json keaCommand(const std::string& path, const nlohmann::json& command, int timeoutMs);

}  // namespace tools
}  // namespace phoneprov

#endif  // PHONEPROV_TOOLS_CONTROL_SOCKET_H
