# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
# The Conan 2 recipe: builds through the project's CMakeLists.txt.
import os
import re

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load


class ZcLockfileConan(ConanFile):
    name = "zc_lockfile"
    license = "BSL-1.0"
    description = "Inter-process locks implemented with lock files (a C++ port of Python's zc.lockfile)"
    topics = ("lock", "lockfile", "interprocess", "boost")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False]}
    default_options = {"shared": True, "fPIC": True}
    exports_sources = "CMakeLists.txt", "cmake/*", "include/*", "src/*", "tools/*", "LICENSE_1_0.txt"

    def set_version(self):
        # The version is written once, in include/zc/lockfile/config.hpp.
        text = load(self, os.path.join(self.recipe_folder, "include", "zc", "lockfile", "config.hpp"))
        # \r?: a Windows checkout (Git's core.autocrlf) has CRLF line ends, which re.M's $ does not take.
        parts = [re.search(r"^#define ZC_LOCKFILE_VERSION_%s (\d+)\r?$" % part, text, re.M) for part in ("MAJOR", "MINOR", "PATCH")]
        if not all(parts):
            raise ValueError("could not read the version from include/zc/lockfile/config.hpp")
        self.version = ".".join(p.group(1) for p in parts)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # Boost.System's error_code is in the public headers; Boost.Log and Boost.Interprocess
        # are used inside.
        self.requires("boost/1.81.0", transitive_headers=True)

    def generate(self):
        toolchain = CMakeToolchain(self)
        toolchain.cache_variables["ZC_LOCKFILE_BUILD_TESTS"] = False
        toolchain.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE_1_0.txt", self.source_folder, f"{self.package_folder}/licenses")
        CMake(self).install()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "zc_lockfile")
        self.cpp_info.set_property("cmake_target_name", "zc_lockfile::zc_lockfile")
        self.cpp_info.set_property("pkg_config_name", "zc_lockfile")
        self.cpp_info.libs = ["zc_lockfile"]
        self.cpp_info.requires = ["boost::headers", "boost::log"]
        if self.options.shared:
            self.cpp_info.defines = ["ZC_LOCKFILE_DYN_LINK"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
