# lit configuration for kt's FileCheck tests (test/**/*.mlir).
# Run through the build tree: `ninja check-kt`, `ctest -R '^lit$'`, or
# `lit -v <build>/test`. Works with the PyPI `lit` or LLVM's lit.py.
import os

import lit.formats

config.name = "kt"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
# Inputs/ holds files that tests RUN on; they are not tests themselves.
config.excludes = ["Inputs", "data", "peer", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kt_obj_root, "test")

# Captured variables go out of scope at each CHECK-LABEL.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
# kt-opt from this build first, then FileCheck/not/count from LLVM.
config.environment["PATH"] = os.pathsep.join(
    [config.kt_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
