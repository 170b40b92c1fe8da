// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The Python original's Windows protocol, done the way it does it, for the Windows tests:
// zc.lockfile opens the file read-write without truncation, locks one byte at offset 0 with
// msvcrt.locking(fd, LK_NBLCK, 1) (the C runtime's _locking, called here), writes " <pid>\n"
// from offset 0 through the same descriptor and truncates after it; on close it unlocks that
// byte (msvcrt.locking(fd, LK_UNLCK, 1)) and closes.
//
//   msvcrt_peer PATH
// prints "locked <pid>" and holds the lock until its input ends, or prints "busy" (exit 3), or
// "error <what>" (exit 4).

#include <cstdio>
#include <iostream>
#include <string>

#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <sys/locking.h>
#include <sys/stat.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: msvcrt_peer PATH\n";
        return 2;
    }
    const int fd = ::_open(argv[1], _O_RDWR | _O_CREAT | _O_BINARY, _S_IREAD | _S_IWRITE);
    if (fd < 0) {
        std::cout << "error cannot open " << argv[1] << std::endl;
        return 4;
    }
    ::_lseek(fd, 0, SEEK_SET);
    if (::_locking(fd, _LK_NBLCK, 1) != 0) {
        std::cout << "busy" << std::endl;
        return 3;
    }
    const std::string record = " " + std::to_string(::_getpid()) + "\n";
    ::_lseek(fd, 0, SEEK_SET);
    if (::_write(fd, record.data(), static_cast<unsigned>(record.size())) != static_cast<int>(record.size()) ||
        ::_chsize(fd, static_cast<long>(record.size())) != 0) {
        std::cout << "error cannot write the record" << std::endl;
        return 4;
    }
    std::cout << "locked " << ::_getpid() << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    ::_lseek(fd, 0, SEEK_SET);
    ::_locking(fd, _LK_UNLCK, 1);
    ::_close(fd);
    return 0;
}
