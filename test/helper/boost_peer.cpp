// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// A peer that uses boost::interprocess::file_lock alone (a POSIX record lock), as other programs
// of the Boost ecosystem do.
//
//   boost_peer PATH [shared]   (the file must exist)
// prints "locked" and holds the lock until end of input, or prints "busy" and exits 3.

#include <boost/interprocess/sync/file_lock.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    if (argc != 2 && argc != 3) {
        std::cerr << "usage: boost_peer PATH [shared]\n";
        return 2;
    }
    try {
        boost::interprocess::file_lock lock(argv[1]);
        const bool shared = argc == 3 && std::string(argv[2]) == "shared";
        if (!(shared ? lock.try_lock_sharable() : lock.try_lock())) {
            std::cout << "busy" << std::endl;
            return 3;
        }
        std::cout << "locked" << std::endl;
        std::string line;
        std::getline(std::cin, line);
        if (shared) lock.unlock_sharable();
        else lock.unlock();
    } catch (const std::exception& e) {
        std::cout << "error " << e.what() << std::endl;
        return 4;
    }
    return 0;
}
