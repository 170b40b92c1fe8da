#!/usr/bin/env bash
# The ways to consume zc_lockfile, each built and run for real: a b2 project using the b2 target,
# the CMake build with ctest, find_package from an installed tree (shared and static),
# add_subdirectory, pkg-config, and conan create (shared and static) with its test_package; then
# the HTML documentation. Prints how long each stage took.
#
#   test/packaging.sh   (needs cmake, pkg-config, b2, g++, Boost, python3 with venv, asciidoctor;
#                        pip fetches Conan from PyPI)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)  # 0700: the tests' unprivileged attempts run copies of their helpers (issue 16)
trap 'rm -rf "$work"' EXIT
. "$root/test/stage.sh"
quiet() { "$@" > "$work/out.log" 2>&1 || { cat "$work/out.log"; return 1; }; }

stage "b2 consumer (example/b2_consumer), shared and static"
for link in shared static; do
    rm -rf example/b2_consumer/bin
    (cd example/b2_consumer && quiet b2 -j2 link=$link)
    exe=$(find example/b2_consumer/bin -name quick_start -type f -perm -u+x | head -n 1)
    "$exe" "$work/b2-$link.lock" | grep "working; the lock file says: [0-9]*/"
done
rm -rf example/b2_consumer/bin

stage "b2 from a checkout whose path holds ' \" \$( and \` (a dry run: the version and soname)"
# The jamfile reads the version from config.hpp, and test/Jamfile the list of test modules, with
# a shell command: the path must reach it as it is, neither split nor run (.ci/run covers a space).
odd="$work/it's \"odd\" \$(touch ran-by-b2) \`touch ran-by-b2\`"
mkdir -p "$odd"
git ls-files -z | tar --null -cf - -T - | tar -xf - -C "$odd"
version=$(sed -n 's/^#define ZC_LOCKFILE_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' include/zc/lockfile/config.hpp | paste -sd.)
(cd "$odd" && quiet b2 -n --build-dir="$work/b2-odd" shared)
grep -q "libzc_lockfile\.so\.$version" "$work/out.log" || { cat "$work/out.log"; echo "no libzc_lockfile.so.$version"; exit 1; }
(cd "$odd" && quiet b2 -n --build-dir="$work/b2-odd" test//errors_test-shared)
grep -q "errors_test" "$work/out.log" || { cat "$work/out.log"; echo "test/Jamfile did not list errors_test"; exit 1; }
if [ -n "$(find "$work" -name ran-by-b2)" ]; then echo "b2 ran a command taken from the checkout's path"; exit 1; fi
rm -rf "$odd"

stage "CMake build of the library, command and tests, with ctest"
quiet cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release
quiet cmake --build "$work/build" -j2
(cd "$work/build" && ctest -j2 --output-on-failure | tail -n 3)

for kind in shared static; do
    stage "cmake --install ($kind) and a find_package consumer"
    shared=$([ $kind = shared ] && echo ON || echo OFF)
    # tag::cmake-install[]
    quiet cmake -S . -B "$work/lib-$kind" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=$shared -DZC_LOCKFILE_BUILD_TESTS=OFF
    quiet cmake --build "$work/lib-$kind" -j2
    quiet cmake --install "$work/lib-$kind" --prefix "$work/prefix-$kind"
    quiet cmake -S test/cmake_install_test -B "$work/consumer-$kind" -DCMAKE_PREFIX_PATH="$work/prefix-$kind"
    # end::cmake-install[]
    quiet cmake --build "$work/consumer-$kind" -j2
    (cd "$work/consumer-$kind" && ctest --output-on-failure | grep "tests passed")
    # A shared build keeps Boost.Log private: the consumer links only zc_lockfile and its headers.
    if [ $kind = shared ]; then
        ! grep -q "Boost::log" "$work/prefix-$kind/lib/cmake/zc_lockfile/zc_lockfileTargets.cmake"
    fi
    "$work/prefix-$kind/bin/zc-lockfile" --version

    stage "pkg-config ($kind): a one-line compile"
    static_flag=$([ $kind = static ] && echo --static || true)
    export PKG_CONFIG_PATH="$work/prefix-$kind/lib/pkgconfig"
    # tag::pkg-config[]
    g++ example/quick_start.cpp -o "$work/pc-$kind" $(pkg-config --cflags --libs $static_flag zc_lockfile)
    # end::pkg-config[]
    LD_LIBRARY_PATH="$work/prefix-$kind/lib" "$work/pc-$kind" "$work/pc-$kind.lock" | grep "working; the lock file says: [0-9]*/"
    unset PKG_CONFIG_PATH
done

stage "add_subdirectory consumer"
quiet cmake -S test/cmake_subdir_test -B "$work/subdir"
quiet cmake --build "$work/subdir" -j2
(cd "$work/subdir" && ctest --output-on-failure | grep "tests passed")

stage "Conan 2: conan create, shared and static, offline against the system's Boost"
python3 -m venv "$work/venv" 2>/dev/null || /usr/bin/python3 -m venv "$work/venv"
quiet "$work/venv/bin/pip" install --no-cache-dir "conan==2.34.0"  # nothing written under $HOME
PATH="$work/venv/bin:$PATH"
# tag::conan[]
export CONAN_HOME="$work/conan-home"        # a private Conan cache
conan profile detect > /dev/null
conan remote remove conancenter             # offline: nothing comes from ConanCenter
conan export test/conan/system_boost --user system
for shared in True False; do
    conan create . -pr:h test/conan/profile -o "zc_lockfile/*:shared=$shared" --build=missing > "$work/conan.log" 2>&1 \
        || { cat "$work/conan.log"; exit 1; }
    grep "test package" "$work/conan.log" | tail -n 1
done
# end::conan[]
# The version from config.hpp with CRLF line ends too, as a Windows checkout has them.
mkdir "$work/crlf"
git ls-files -z | tar --null -cf - -T - | tar -xf - -C "$work/crlf"
sed -i 's/$/\r/' "$work/crlf/include/zc/lockfile/config.hpp"
conan inspect "$work/crlf" | grep -x "version: $version"

stage "the documentation: asciidoctor to HTML, every include resolved"
asciidoctor --failure-level WARN -a data-uri -D "$work/html" doc/*.adoc
ls "$work/html"

stage "done"
