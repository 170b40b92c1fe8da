// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Qt 5's QLockFile in the benchmarks' peer protocol (bench/common.hpp):
//   qlockfile_peer PATH
// prints "ready"; for each line N on stdin runs N uncontended cycles (construct, tryLock(0),
// unlock, destroy) and prints their seconds.

#include <QtCore/QLockFile>
#include <QtCore/QString>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: qlockfile_peer PATH\n";
        return 2;
    }
    const QString path = QString::fromLocal8Bit(argv[1]);
    const auto cycle = [&] {
        QLockFile lock(path);
        if (!lock.tryLock(0)) {
            std::cerr << "qlockfile_peer: the lock was busy\n";
            std::exit(1);
        }
        lock.unlock();
    };
    cycle();
    std::cout << "ready" << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
        const int n = std::stoi(line);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) cycle();
        std::printf("%.9f\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        std::fflush(stdout);
    }
    return 0;
}
