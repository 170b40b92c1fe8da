// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The error path: every failure of the library, whichever API form was called, ends in
// emit_error(), which reports it in the caller's error_code or throws it (doc/design.adoc).
#ifndef ZC_LOCKFILE_SRC_FAILURE_HPP
#define ZC_LOCKFILE_SRC_FAILURE_HPP

#include <boost/system/error_code.hpp>

#include <string>

namespace zc {
namespace lockfile {
namespace detail {

// Which step failed, and what more than the error code the message says. The steps fill it in as
// they go, with literals only: nothing is allocated until something fails.
struct failure {
    const char* step = "open lock file";
    const char* found = nullptr;                 // what is at the path, when it is not a regular file
    std::string detail;                          // a template's fault, what could not be read, ...
    const std::string* template_text = nullptr;  // the content template a step could not use
    bool names_path = true;                      // false for an object that has no path
};

// The one place a failure becomes an error_code or an exception. With ec, *ec = code. Without,
// throws LockError for error::locked, and otherwise lock_file_error with the path, the reason
// ("found <found>", or the detail) and the message
//   Couldn't <step>[ '<template>' for lock file] '<path>'[ (found <found>)][ (<detail>)]: <code>
// (for an object without a path: "Couldn't <step>: <detail>: <code>").
void emit_error(const boost::system::error_code& code, const std::string& path, const failure& f,
                boost::system::error_code* ec);

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
