# MLIR setup shared by every directory that builds MLIR code (dialects/,
# compiler/CostModel, compiler/Transforms, tools/kt-opt). find_package results
# and imported targets are directory-scoped and the top level does not look
# for MLIR, so each of those directories includes this file:
#   include(${PROJECT_SOURCE_DIR}/dialects/KtMLIR.cmake NO_POLICY_SCOPE)
# MLIR_DIR picks another installation; the hint is Debian's llvm-19 location.
include_guard(DIRECTORY)
find_package(MLIR REQUIRED CONFIG HINTS /usr/lib/llvm-19/lib/cmake/mlir)
list(APPEND CMAKE_MODULE_PATH ${MLIR_CMAKE_DIR} ${LLVM_CMAKE_DIR})
include(TableGen)
include(AddLLVM)
include(AddMLIR)
# As LLVM does: with NEW, TableGen depfiles make every build rerun TableGen.
cmake_policy(SET CMP0116 OLD)
# SYSTEM: warnings in LLVM/MLIR headers are not ours to fix under KT_WERROR.
include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
separate_arguments(KT_LLVM_DEFINITIONS NATIVE_COMMAND "${LLVM_DEFINITIONS}")
add_definitions(${KT_LLVM_DEFINITIONS})
