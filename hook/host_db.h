// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_HOST_DB_H
#define PHONEPROV_HOST_DB_H

#include <mac.h>

#include <boost/shared_ptr.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// No Kea header here: the phoneprov command line includes this file too.
namespace isc {
namespace data {
class Element;
}  // namespace data

namespace phoneprov {

/// @brief Host reservations in Kea's host databases (`hosts-database(s)`:
/// PostgreSQL, MySQL), read by the render workers and by `phoneprov render`.
///
/// The workers never share Kea's own connections: in single-threaded mode a Kea
/// backend keeps one connection without locking, used by the DHCP thread. Each
/// look-up borrows a connection of ours from a small pool (one per concurrent
/// caller, created through Kea's HostDataSourceFactory, so every backend Kea has
/// works); a connection that failed is dropped and a new one made next time, so a
/// database that comes back is used again without a reload.
class HostDb {
public:
    /// @brief The databases of a Dhcp4 configuration (the Dhcp4 map or a map
    /// holding "Dhcp4"); none when it has no `hosts-database(s)`.
    /// @throw isc::Exception when a database entry does not parse.
    static std::shared_ptr<HostDb> fromConfig(
        const boost::shared_ptr<const isc::data::Element>& config);

    /// @brief The same from a parsed configuration file (the command line).
    static std::shared_ptr<HostDb> fromConfig(const nlohmann::json& config);

    /// @brief For a program that is not Kea: Kea's libraries log warnings and
    /// errors to stderr (stdout stays the program's own). Call once, first.
    static void initStandaloneLogging(const std::string& name);

    /// @brief The reservations of a MAC, each as Kea writes a host in JSON
    /// (`hw-address`, `ip-address`, `option-data`, `user-context`...).
    /// @throw std::exception when a database cannot be reached or read.
    std::vector<nlohmann::json> find(const ::phoneprov::Mac& mac);

    /// @brief Every IPv4 reservation by hardware address in every database, read
    /// page by page, handed to @c each one at a time (the same JSON as find()).
    /// @return how many were handed over.
    /// @throw std::exception when a database cannot be reached or read.
    size_t forEach(const std::function<void(nlohmann::json&&)>& each);

    /// @brief The databases, passwords redacted (for logs).
    const std::vector<std::string>& redacted() const { return (redacted_); }

    ~HostDb();

private:
    struct Connections;
    explicit HostDb(std::vector<std::string> access, std::vector<std::string> redacted);

    std::unique_ptr<Connections> borrow();
    void giveBack(std::unique_ptr<Connections> c);

    std::vector<std::string> access_;
    std::vector<std::string> redacted_;
    std::mutex mutex_;
    /// Idle connection sets (one data source per database each).
    std::vector<std::unique_ptr<Connections>> idle_;
};

using HostDbPtr = std::shared_ptr<HostDb>;

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_HOST_DB_H
