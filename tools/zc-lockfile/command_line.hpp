// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// A Windows command line from an argument vector: CreateProcess takes one string, which the
// started program's C runtime splits again. Used by command_windows.cpp and by the Windows tests'
// child processes (test/support/process.hpp). Arguments travel as UTF-8 inside the
// command (the library's paths are UTF-8), and are widened for CreateProcessW.
#ifndef ZC_LOCKFILE_TOOLS_COMMAND_LINE_HPP
#define ZC_LOCKFILE_TOOLS_COMMAND_LINE_HPP

#include <string>
#include <vector>

namespace zc_cli {

// One argument as the C runtime's command-line parser reads it back: quoted, with the
// backslashes before a quote (or before the closing quote) doubled.
template <class String> String quote_argument(const String& arg)
{
    using char_type = typename String::value_type;
    String out(1, char_type('"'));
    std::size_t backslashes = 0;
    for (char_type c : arg) {
        if (c == char_type('\\')) {
            ++backslashes;
            continue;
        }
        out.append(c == char_type('"') ? backslashes * 2 + 1 : backslashes, char_type('\\'));
        backslashes = 0;
        out += c;
    }
    out.append(backslashes * 2, char_type('\\'));
    return out + char_type('"');
}

template <class String> String command_line(const std::vector<String>& argv)
{
    String line;
    for (const auto& a : argv) {
        if (!line.empty()) line += typename String::value_type(' ');
        line += quote_argument(a);
    }
    return line;
}

// UTF-16 as Windows gives it (which may hold unpaired surrogates) to WTF-8, and back: UTF-8 for
// every valid string, and an exact round trip for the rest, so that COMMAND's arguments reach it
// unchanged. (WideCharToMultiByte would turn an unpaired surrogate into U+FFFD.)
inline std::string narrow(const std::wstring& wide)
{
    std::string out;
    for (std::size_t i = 0; i < wide.size(); ++i) {
        unsigned long c = static_cast<unsigned short>(wide[i]);
        const bool pair = c >= 0xD800 && c < 0xDC00 && i + 1 < wide.size() && wide[i + 1] >= 0xDC00 && wide[i + 1] < 0xE000;
        if (pair) c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<unsigned short>(wide[++i]) - 0xDC00);
        const auto byte = [&out](unsigned long b) { out += static_cast<char>(b); };
        if (c < 0x80) {
            byte(c);
        } else if (c < 0x800) {
            byte(0xC0 | (c >> 6));
            byte(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            byte(0xE0 | (c >> 12));
            byte(0x80 | ((c >> 6) & 0x3F));
            byte(0x80 | (c & 0x3F));
        } else {
            byte(0xF0 | (c >> 18));
            byte(0x80 | ((c >> 12) & 0x3F));
            byte(0x80 | ((c >> 6) & 0x3F));
            byte(0x80 | (c & 0x3F));
        }
    }
    return out;
}

// The inverse of narrow(). A byte that starts no sequence is kept as the code unit of that value.
inline std::wstring widen(const std::string& text)
{
    std::wstring out;
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        const std::size_t len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        unsigned long c = len == 1 ? b : b & (0x7F >> len);
        for (std::size_t k = 1; k < len && i + k < text.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        i += len;
        if (c >= 0x10000) {
            out += static_cast<wchar_t>(0xD800 + ((c - 0x10000) >> 10));
            out += static_cast<wchar_t>(0xDC00 + ((c - 0x10000) & 0x3FF));
        } else {
            out += static_cast<wchar_t>(c);
        }
    }
    return out;
}

} // namespace zc_cli

#endif
