// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// A Windows command line from an argument vector: CreateProcess takes one string, which the
// started program's C runtime splits again. Used by command_windows.cpp and by the Windows tests'
// child processes (test/support/windows_process.hpp).
#ifndef ZC_LOCKFILE_TOOLS_COMMAND_LINE_HPP
#define ZC_LOCKFILE_TOOLS_COMMAND_LINE_HPP

#include <string>
#include <vector>

namespace zc_cli {

// One argument as the C runtime's command-line parser reads it back: quoted, with the
// backslashes before a quote (or before the closing quote) doubled.
inline std::string quote_argument(const std::string& arg)
{
    std::string out = "\"";
    std::size_t backslashes = 0;
    for (char c : arg) {
        if (c == '\\') {
            ++backslashes;
            continue;
        }
        out.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
        backslashes = 0;
        out += c;
    }
    out.append(backslashes * 2, '\\');
    return out + "\"";
}

inline std::string command_line(const std::vector<std::string>& argv)
{
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + quote_argument(a);
    return line;
}

} // namespace zc_cli

#endif
