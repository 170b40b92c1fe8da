// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The README's example: take the lock, or say who has it.
//
//   quick_start [PATH]    (default: ./my-app.lock)
// tag::quick_start[]
#include <zc/lockfile.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    const char* path = argc > 1 ? argv[1] : "my-app.lock";
    try {
        zc::lockfile::LockFile lock(path, "{pid}/{hostname}");
        std::cout << "working; the lock file says:" << lock.read_contents();
    } catch (const zc::lockfile::LockError& e) {
        std::cout << e.what() << '\n';  // Couldn't lock 'my-app.lock': ...
        return 1;
    }
}
// end::quick_start[]
