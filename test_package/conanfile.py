# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
# Builds and runs a consumer of the created package: example/quick_start.cpp.
import os
from io import StringIO

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class ZcLockfileTestPackage(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain", "VirtualRunEnv"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        program = os.path.join(self.cpp.build.bindir, "quick_start")
        lock = os.path.join(self.build_folder, "quick_start.lock")
        out = StringIO()
        self.run(f"{program} {lock}", env="conanrun", stdout=out)
        if "working; the lock file says: " not in out.getvalue():
            raise ConanException("unexpected output: " + out.getvalue())
        self.output.info(out.getvalue().strip())
