# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
# A wrapper recipe for the system's Boost 1.81 (Debian's libboost-*1.81-dev), for building the
# package offline, where ConanCenter cannot be reached. It packages no files: it describes the
# system's headers and shared libraries as Conan components with Boost's own CMake target names,
# including their link dependencies, so that static consumers link too.
#
#   conan export test/conan/system_boost --user system
# and in the host profile:
#   [replace_requires]
#   boost/*: boost/1.81.0@system
from conan import ConanFile


class SystemBoostConan(ConanFile):
    name = "boost"
    version = "1.81.0"
    description = "The system's Boost 1.81 (headers and shared libraries), described for Conan"
    license = "BSL-1.0"
    package_type = "shared-library"
    settings = "os", "arch"

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "Boost")
        self.cpp_info.set_property("cmake_target_name", "Boost::boost")
        self.cpp_info.set_property("pkg_config_name", "boost")
        # Everything comes from the system's default include and library paths.
        self.cpp_info.includedirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.bindirs = []

        headers = self.cpp_info.components["headers"]
        headers.set_property("cmake_target_name", "Boost::headers")
        headers.includedirs = []
        headers.libdirs = []

        def shared_lib(name, libs, requires, defines=()):
            c = self.cpp_info.components[name]
            c.set_property("cmake_target_name", f"Boost::{name}")
            c.includedirs = []
            c.libdirs = []
            c.system_libs = list(libs)
            c.requires = ["headers"] + list(requires)
            c.defines = list(defines)

        shared_lib("system", [], [])
        shared_lib("filesystem", ["boost_filesystem"], [])
        shared_lib("thread", ["boost_thread", "pthread"], [])
        shared_lib("log", ["boost_log"], ["thread", "filesystem"], ["BOOST_LOG_DYN_LINK"])
        shared_lib("log_setup", ["boost_log_setup"], ["log"], ["BOOST_LOG_DYN_LINK"])
        shared_lib("unit_test_framework", ["boost_unit_test_framework"], [], ["BOOST_TEST_DYN_LINK"])
