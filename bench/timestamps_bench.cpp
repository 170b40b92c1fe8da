// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Why the library's identity checks use statx(STATX_TYPE | STATX_INO) and not fstat/lstat: on
// Linux 6.13 and later ("multigrain timestamps"), reading a file's timestamps makes its next
// write take a fine-grained timestamp, which dirties the inode (and ext4 journals it). This times
// a pwrite of a record alone, after an lstat of the file, and after a statx asking for the type
// and inode only, in the same run; ratios are to the pwrite alone.
//
//   timestamps_bench [--cycles N] [--dir DIR] [--csv FILE]

#include "common.hpp"

#include <sys/stat.h>

int main(int argc, char** argv)
{
    const bench::arguments args(argc, argv);
    const int cycles = args.number("--cycles", 200000);
    const std::string dir = args.text("--dir", "/tmp");
    bench::csv_output csv(args.text("--csv", ""));
    const std::string path = dir + "/zc_timestamps_bench.lock";
    const int fd = bench::open_or_fail(path);
    const std::string record = " 12345\n";
    const auto write_record = [&] {
        if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) bench::fail("pwrite");
    };
    struct stat st;
    struct statx sx;
    struct variant {
        const char* name;
        std::function<void()> step;
        double us = 0;
    };
    std::vector<variant> variants = {
        {"pwrite alone", write_record},
        {"lstat(path), then pwrite", [&] {
             if (::lstat(path.c_str(), &st) != 0) bench::fail("lstat");
             write_record();
         }},
        {"statx(path, TYPE | INO), then pwrite", [&] {
             if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO, &sx) != 0) bench::fail("statx");
             write_record();
         }},
        {"lstat(path) alone", [&] {
             if (::lstat(path.c_str(), &st) != 0) bench::fail("lstat");
         }},
        {"statx(path, TYPE | INO) alone", [&] {
             if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO, &sx) != 0) bench::fail("statx");
         }},
    };
    for (auto& v : variants) v.us = bench::seconds_for(cycles, v.step) / cycles * 1e6;
    std::printf("A record's pwrite after reading the file's timestamps (%d each; x = ratio to the pwrite alone)\n", cycles);
    std::printf("%-44s %10s %8s\n", "step", "us", "x");
    for (auto& v : variants) {
        std::printf("%-44s %10.3f %8.2f\n", v.name, v.us, v.us / variants[0].us);
        csv.row("timestamps", v.name, "", v.us, "us", v.us / variants[0].us);
    }
    ::close(fd);
    ::unlink(path.c_str());
    return 0;
}
