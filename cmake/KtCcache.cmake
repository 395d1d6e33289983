# Use ccache for C, C++ and CUDA when it is installed.
find_program(KT_CCACHE ccache)
if(KT_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${KT_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${KT_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${KT_CCACHE})
endif()
