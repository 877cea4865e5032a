// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "host_db.h"

#include <cc/data.h>
#include <database/database_connection.h>
#include <database/dbaccess_parser.h>
#include <dhcpsrv/host.h>
#include <dhcpsrv/host_data_source_factory.h>
#include <dhcpsrv/subnet_id.h>
#include <log/logger_manager.h>
#include <log/logger_specification.h>
#include <log/logger_support.h>
#include <log/output_option.h>

using namespace isc::data;
using namespace isc::dhcp;

namespace isc {
namespace phoneprov {

namespace {

/// A host as Kea writes it, parsed again with Kea's own serialisation.
nlohmann::json hostJson(const ConstHostPtr& h) {
    return (nlohmann::json::parse(h->toElement4()->str(), nullptr, false));
}

/// An IPv4 reservation by hardware address (the only kind a phone's MAC finds).
bool usable(const ConstHostPtr& h) {
    return (h->getIPv4SubnetID() != SUBNET_ID_UNUSED &&
            h->getIdentifierType() == Host::IDENT_HWADDR);
}

}  // namespace

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
        for (const auto& e : many->listValue()) {
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

HostDbPtr HostDb::fromConfig(const nlohmann::json& config) {
    return (fromConfig(Element::fromJSON(config.dump())));
}

void HostDb::initStandaloneLogging(const std::string& name) {
    isc::log::initLogger(name, isc::log::WARN, 0, nullptr, false);
    isc::log::LoggerSpecification spec(name, isc::log::WARN, 0);
    isc::log::OutputOption stderrOnly;
    stderrOnly.destination = isc::log::OutputOption::DEST_CONSOLE;
    stderrOnly.stream = isc::log::OutputOption::STR_STDERR;
    spec.addOutputOption(stderrOnly);
    isc::log::LoggerManager manager;
    manager.process(spec);
}

HostDb::HostDb(std::vector<std::string> access, std::vector<std::string> redacted)
    : access_(std::move(access)), redacted_(std::move(redacted)) {
}

HostDb::~HostDb() = default;

std::unique_ptr<HostDb::Connections> HostDb::borrow() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!idle_.empty()) {
            std::unique_ptr<Connections> c = std::move(idle_.back());
            idle_.pop_back();
            return (c);
        }
    }
    std::unique_ptr<Connections> c(new Connections);
    for (const std::string& a : access_) {
        HostDataSourceFactory::add(c->sources, a);  // connects; throws if it cannot
    }
    return (c);
}

void HostDb::giveBack(std::unique_ptr<Connections> c) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(c));
}

std::vector<nlohmann::json> HostDb::find(const ::phoneprov::Mac& mac) {
    // A failure below throws past giveBack(): that connection is dropped.
    std::unique_ptr<Connections> c = borrow();
    std::vector<nlohmann::json> hosts;
    const auto& id = mac.bytes;
    for (const HostDataSourcePtr& source : c->sources) {
        ConstHostCollection found = source->getAll(Host::IDENT_HWADDR, id.data(), id.size());
        for (const ConstHostPtr& h : found) {
            if (usable(h)) {
                hosts.push_back(hostJson(h));
            }
        }
    }
    giveBack(std::move(c));
    return (hosts);
}

size_t HostDb::forEach(const std::function<void(nlohmann::json&&)>& each) {
    std::unique_ptr<Connections> c = borrow();
    size_t count = 0;
    const HostPageSize page(1000);
    for (const HostDataSourcePtr& source : c->sources) {
        size_t index = 0;  // each source is asked alone: the index is not used
        uint64_t after = 0;
        for (;;) {
            ConstHostCollection hosts = source->getPage4(index, after, page);
            if (hosts.empty()) {
                break;
            }
            for (const ConstHostPtr& h : hosts) {
                if (usable(h)) {
                    each(hostJson(h));
                    ++count;
                }
            }
            after = hosts.back()->getHostId();
        }
    }
    giveBack(std::move(c));
    return (count);
}

}  // namespace phoneprov
}  // namespace isc
