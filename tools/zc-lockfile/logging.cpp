// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The command's own Boost.Log sink (the library never configures one).

#include "cli.hpp"

#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions/message.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/trivial.hpp>
#include <boost/make_shared.hpp>

#include <cctype>
#include <iostream>

namespace zc_cli {

namespace {

using severity = boost::log::trivial::severity_level;

std::string upper(const char* s)
{
    std::string out(s != nullptr ? s : "");
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

void setup_logging(verbosity v)
{
    using backend_type = boost::log::sinks::text_ostream_backend;
    auto backend = boost::make_shared<backend_type>();
    backend->add_stream(boost::shared_ptr<std::ostream>(&std::cerr, boost::null_deleter()));
    backend->auto_flush(true);
    auto sink = boost::make_shared<boost::log::sinks::synchronous_sink<backend_type>>(backend);
    const severity least = v == verbosity::quiet ? severity::error : v == verbosity::verbose ? severity::debug : severity::info;
    sink->set_filter([least](const boost::log::attribute_value_set& attrs) {
        const auto s = boost::log::extract<severity>("Severity", attrs);
        return s && *s >= least;
    });
    sink->set_formatter([](const boost::log::record_view& rec, boost::log::formatting_ostream& out) {
        const auto s = boost::log::extract<severity>("Severity", rec);
        out << "zc-lockfile: " << (s ? upper(boost::log::trivial::to_string(*s)) : std::string("LOG")) << ' '
            << rec[boost::log::expressions::smessage];
    });
    boost::log::core::get()->add_sink(sink);
}

} // namespace zc_cli
