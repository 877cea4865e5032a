// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "host_db.h"

#include "phoneprov.h"

#include <database/database_connection.h>
#include <database/dbaccess_parser.h>
#include <dhcpsrv/host.h>
#include <dhcpsrv/host_data_source_factory.h>
#include <dhcpsrv/subnet_id.h>

using namespace isc::data;
using namespace isc::dhcp;

namespace isc {
namespace phoneprov {

struct HostDb::Connections {
    HostDataSourceList sources;
};

HostDbPtr HostDb::fromConfig(const ConstElementPtr& config) {
    if (!config || config->getType() != Element::map) {
        return (HostDbPtr());
    }
    ConstElementPtr dhcp4 = config->get("Dhcp4");
    if (dhcp4) {
        return (fromConfig(dhcp4));
    }
    std::vector<ConstElementPtr> entries;
    ConstElementPtr one = config->get("hosts-database");
    if (one && one->getType() == Element::map) {
        entries.push_back(one);
    }
    ConstElementPtr many = config->get("hosts-databases");
    if (many && many->getType() == Element::list) {
        for (const ConstElementPtr& e : many->listValue()) {
            entries.push_back(e);
        }
    }
    if (entries.empty()) {
        return (HostDbPtr());
    }
    std::vector<std::string> access;
    std::vector<std::string> redacted;
    for (const ConstElementPtr& e : entries) {
        isc::db::DbAccessParser parser;
        std::string text;
        parser.parse(text, e);
        access.push_back(text);
        redacted.push_back(
            isc::db::DatabaseConnection::redactedAccessString(parser.getDbAccessParameters()));
    }
    return (HostDbPtr(new HostDb(std::move(access), std::move(redacted))));
}

HostDb::HostDb(std::vector<std::string> access, std::vector<std::string> redacted)
    : access_(std::move(access)), redacted_(std::move(redacted)) {
}

HostDb::~HostDb() = default;

std::vector<nlohmann::json> HostDb::find(const ::phoneprov::Mac& mac) {
    std::unique_ptr<Connections> c;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!idle_.empty()) {
            c = std::move(idle_.back());
            idle_.pop_back();
        }
    }
    if (!c) {
        c.reset(new Connections);
        for (const std::string& a : access_) {
            HostDataSourceFactory::add(c->sources, a);  // connects; throws if it cannot
        }
    }
    // A failure below throws past the return to the pool: that connection is dropped.
    std::vector<nlohmann::json> hosts;
    const auto& id = mac.bytes;
    for (const HostDataSourcePtr& source : c->sources) {
        ConstHostCollection found = source->getAll(Host::IDENT_HWADDR, id.data(), id.size());
        for (const ConstHostPtr& h : found) {
            if (h->getIPv4SubnetID() == SUBNET_ID_UNUSED) {
                continue;  // a DHCPv6-only reservation
            }
            hosts.push_back(toJson(h->toElement4()));
        }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(c));
    return (hosts);
}

}  // namespace phoneprov
}  // namespace isc
