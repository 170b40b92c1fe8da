// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Text from a lock file or a path, made safe to show: UTF-8 validation and the log's sanitising.
// Header-only, with nothing but the standard library, so that the zc-lockfile command shows such
// text exactly as the library's log messages do (it includes this file; it cannot call the
// library's hidden functions when it links the shared library, as the CMake build does).
#ifndef ZC_LOCKFILE_SRC_TEXT_HPP
#define ZC_LOCKFILE_SRC_TEXT_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace zc {
namespace lockfile {
namespace detail {

// Length of the valid UTF-8 sequence of 2 to 4 bytes starting at s[i], or 0 if there is none (an
// ASCII byte, a stray continuation byte, an overlong form, a surrogate, a code point beyond
// U+10FFFF, or a sequence cut short).
inline std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b = byte(i);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) len = 2;
    else if (b >= 0xE0 && b <= 0xEF) { len = 3; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
    else if (b >= 0xF0 && b <= 0xF4) { len = 4; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
    else return 0;
    if (i + len > s.size()) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    return len;
}

// Whether the valid sequence of len bytes at s[i] encodes a C1 control (U+0080..U+009F, encoded
// C2 80..C2 9F): a control character like those of ASCII, which some terminals obey.
inline bool is_c1_control(std::string_view s, std::size_t i, std::size_t len) noexcept
{
    return len == 2 && static_cast<unsigned char>(s[i]) == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
}

// Replaces every control character (C0 and C1), DEL and byte that is not part of valid UTF-8
// with '?', so that a log message or a line on a terminal stays one printable line whatever a
// file or a path holds.
inline std::string sanitize(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F) {
            out += text[i++];
        } else if (c >= 0x80) {
            const std::size_t len = utf8_sequence(text, i);
            if (len == 0 || is_c1_control(text, i, len)) {
                out += '?';
                i += (len == 0 ? 1 : len);
            } else {
                out.append(text.substr(i, len));
                i += len;
            }
        } else {
            out += '?';
            ++i;
        }
    }
    return out;
}

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
