// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// A Boost.Log sink of the test's own that keeps every record with its channel and severity.
#ifndef ZC_LOCKFILE_TEST_LOG_CAPTURE_HPP
#define ZC_LOCKFILE_TEST_LOG_CAPTURE_HPP

#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/trivial.hpp>
#include <boost/make_shared.hpp>

#include <mutex>
#include <string>
#include <vector>

namespace zc_test {

struct captured_record {
    std::string channel;
    boost::log::trivial::severity_level severity = boost::log::trivial::trace;
    bool has_severity = false;
    std::string message;
};

class capture_backend : public boost::log::sinks::basic_sink_backend<boost::log::sinks::synchronized_feeding> {
public:
    void consume(const boost::log::record_view& rec)
    {
        captured_record r;
        if (auto c = boost::log::extract<std::string>("Channel", rec)) r.channel = *c;
        if (auto s = boost::log::extract<boost::log::trivial::severity_level>("Severity", rec)) {
            r.severity = *s;
            r.has_severity = true;
        }
        if (auto m = boost::log::extract<std::string>("Message", rec)) r.message = *m;
        std::lock_guard<std::mutex> g(mutex_);
        records_.push_back(r);
    }
    std::vector<captured_record> records()
    {
        std::lock_guard<std::mutex> g(mutex_);
        return records_;
    }
    void clear()
    {
        std::lock_guard<std::mutex> g(mutex_);
        records_.clear();
    }

private:
    std::mutex mutex_;
    std::vector<captured_record> records_;
};

// Installs the sink for its lifetime.
class log_capture {
public:
    log_capture()
        : backend_(boost::make_shared<capture_backend>()),
          sink_(boost::make_shared<boost::log::sinks::synchronous_sink<capture_backend>>(backend_))
    {
        boost::log::core::get()->add_sink(sink_);
    }
    ~log_capture() { boost::log::core::get()->remove_sink(sink_); }
    std::vector<captured_record> records() { return backend_->records(); }
    void clear() { backend_->clear(); }

private:
    boost::shared_ptr<capture_backend> backend_;
    boost::shared_ptr<boost::log::sinks::synchronous_sink<capture_backend>> sink_;
};

} // namespace zc_test

#endif
