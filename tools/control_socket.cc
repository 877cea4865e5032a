// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "control_socket.h"

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace phoneprov {
namespace tools {

namespace asio = boost::asio;

nlohmann::json keaCommand(const std::string& path, const nlohmann::json& command, int timeoutMs) {
    asio::io_context io;
    asio::local::stream_protocol::socket sock(io);
    const std::string request = command.dump();
    std::string answer;
    std::vector<char> buf(65536);
    boost::system::error_code failure;
    const char* stage = "connect to";
    bool complete = false;
    // Kea closes the connection after its answer; stop early once the JSON is whole.
    std::function<void(const boost::system::error_code&, size_t)> onRead =
        [&](const boost::system::error_code& ec, size_t n) {
            answer.append(buf.data(), n);
            complete = nlohmann::json::accept(answer);
            if (complete || ec == asio::error::eof) {
                sock.close();
            } else if (ec) {
                failure = ec;
            } else {
                sock.async_read_some(asio::buffer(buf), onRead);
            }
        };
    sock.async_connect(asio::local::stream_protocol::endpoint(path), [&](const boost::system::error_code& ec) {
        if (ec) {
            failure = ec;
            return;
        }
        stage = "send to";
        asio::async_write(sock, asio::buffer(request), [&](const boost::system::error_code& wec, size_t) {
            if (wec) {
                failure = wec;
                return;
            }
            stage = "read from";
            sock.async_read_some(asio::buffer(buf), onRead);
        });
    });
    io.run_for(std::chrono::milliseconds(timeoutMs));
    const std::string where = "kea-dhcp4's control socket " + path;
    if (failure) {
        throw ControlSocketError("cannot " + std::string(stage) + " " + where + ": " + failure.message());
    }
    if (!complete) {
        throw ControlSocketError(answer.empty() && !io.stopped()
                                     ? "no answer from " + where + " within " + std::to_string(timeoutMs) + " ms"
                                     : "no complete answer from " + where);
    }
    nlohmann::json j = nlohmann::json::parse(answer);
    if (j.is_array() && j.size() == 1) {
        j = j[0];  // through kea-ctrl-agent: one answer per service
    }
    if (!j.is_object() || !j.contains("result") || !j["result"].is_number_integer()) {
        throw ControlSocketError("the answer from " + where + " is not a Kea answer");
    }
    return (j);
}

}  // namespace tools
}  // namespace phoneprov
