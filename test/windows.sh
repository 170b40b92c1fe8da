#!/bin/sh
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
# The Windows stage: cross-compiles the library, its tests and the zc-lockfile command with
# Debian's mingw-w64, and runs the tests under Debian's Wine.
#
#   test/windows.sh            (on Debian 12, from anywhere in the tree; as root, or as another
#                               user once root has installed the packages of step 1)
#
# 1. Installs mingw-w64 and wine64 when missing (as root; another user is told the command).
# 2. Builds the Boost libraries the project needs (Log and its dependencies, Test) for mingw,
#    static, one variant, from Debian's own Boost 1.81 source package (Debian's patches
#    applied): fetched with apt-get source from a deb-src list kept in a temporary directory,
#    so the machine's apt set-up is not touched. The result is kept in bin/windows/boost and
#    reused by later runs.
# 3. Configures the project with CMake for mingw (cmake/mingw-w64.cmake), with Wine as the
#    emulator, builds it, and runs ctest: every test module that applies to Windows runs under
#    Wine (test/CMakeLists.txt lists the ones that do not, with the reason).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
started=$(date +%s)
stage() { echo "--- windows: $1 ($(( $(date +%s) - started )) s)"; }
export DEBIAN_FRONTEND=noninteractive

stage "packages"
need=""
command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || need="$need mingw-w64"
[ -x /usr/lib/wine/wine64 ] || need="$need wine64"
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v b2 >/dev/null 2>&1 || need="$need libboost1.81-tools-dev"
command -v dpkg-source >/dev/null 2>&1 || need="$need dpkg-dev"
if [ -n "$need" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "windows.sh: missing packages; as root: apt-get install -y --no-install-recommends$need" >&2
        exit 1
    fi
    apt-get install -y --no-install-recommends $need >/dev/null
fi

boost=$top/bin/windows/boost
if [ ! -f "$boost/.complete" ]; then
    stage "Boost 1.81 for mingw, from Debian's source package"
    work=$(mktemp -d "${TMPDIR:-/tmp}/zc_windows_boost.XXXXXX")
    mkdir -p "$work/sources" "$work/lists/partial"
    . /etc/os-release
    echo "deb-src http://deb.debian.org/debian $VERSION_CODENAME main" > "$work/sources/src.list"
    apt_src="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$work/sources -o Dir::State::Lists=$work/lists"
    apt-get $apt_src update >/dev/null
    (cd "$work" && apt-get $apt_src source --download-only boost1.81 >/dev/null 2>&1)
    # Unpacked with Debian's patches applied, as Debian builds it.
    dpkg-source -x --no-check "$work"/boost1.81_*.dsc "$work/src" >/dev/null
    echo "using gcc : mingw : x86_64-w64-mingw32-g++-posix ;" > "$work/user-config.jam"
    # Log (with thread, filesystem, atomic, chrono, date_time, regex) and Test: static, release,
    # multi-threaded, static runtime; nothing else. install also writes the headers and CMake's
    # package files.
    (cd "$work/src" && b2 --user-config="$work/user-config.jam" toolset=gcc-mingw target-os=windows \
        link=static runtime-link=static variant=release threading=multi address-model=64 \
        --with-log --with-test -j2 --build-dir="$work/build" --prefix="$work/install" -d0 install)
    # Installed under the temporary directory and moved: the clone's path (which may hold a space)
    # never reaches Boost's b2. Boost's CMake files find their libraries relative to themselves.
    rm -rf "$boost"
    mkdir -p "$(dirname "$boost")"
    mv "$work/install" "$boost"
    rm -rf "$work"
    touch "$boost/.complete"
fi

stage "configure and build for mingw"
build=$top/bin/windows/build
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64.cmake" -DCMAKE_BUILD_TYPE=Release \
    -DBoost_DIR="$boost/lib/cmake/Boost-1.81.0" -DZC_LOCKFILE_BUILD_TOOLS=ON >/dev/null
cmake --build "$build" -j2

stage "tests under Wine"
export WINEDEBUG=-all WINEPREFIX="$top/bin/windows/wineprefix"
(cd "$build" && ctest --output-on-failure -j1)
stage "done"
