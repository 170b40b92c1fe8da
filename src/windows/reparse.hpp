// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Which reparse points the Windows backend refuses as links (issue 13, item 6). Header-only, so
// that windows_test checks the rule directly: Wine cannot make or report most reparse points.
#ifndef ZC_LOCKFILE_SRC_WINDOWS_REPARSE_HPP
#define ZC_LOCKFILE_SRC_WINDOWS_REPARSE_HPP

namespace zc {
namespace lockfile {
namespace detail {

// The tags from winnt.h, spelled here so that the rule does not depend on the SDK's version.
constexpr unsigned long reparse_tag_mount_point = 0xA0000003UL;  // IO_REPARSE_TAG_MOUNT_POINT (junctions too)
constexpr unsigned long reparse_tag_symlink = 0xA000000CUL;      // IO_REPARSE_TAG_SYMLINK
constexpr unsigned long attribute_reparse_point = 0x400UL;       // FILE_ATTRIBUTE_REPARSE_POINT

// Whether a file with these attributes and reparse tag makes its path name another file: a
// symbolic link or a mount point (junction). Other reparse points (OneDrive and other cloud
// placeholders, deduplicated files, container layers, ...) are files with data of their own,
// which a file system filter serves: they are locked like any file.
constexpr bool is_link(unsigned long attributes, unsigned long tag) noexcept
{
    return (attributes & attribute_reparse_point) != 0 && (tag == reparse_tag_symlink || tag == reparse_tag_mount_point);
}

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
