# Writes OUT: a C++ file holding the text of every kernels/cuda header named
# in NAMES (|-separated), so that ktc compiles kernels with NVRTC without a
# source tree at hand. Run by compiler/nvrtc/CMakeLists.txt.
string(REPLACE "|" ";" names "${NAMES}")
set(content "// Generated from kernels/cuda/*.cuh by compiler/nvrtc/embed_headers.cmake.\n")
string(APPEND content "#include \"compiler/nvrtc/kernel_headers.h\"\n\nnamespace kt::nvrtc {\n\n")
string(APPEND content "const std::vector<Header>& EmbeddedKernelHeaders() {\n  static const std::vector<Header> headers = {\n")
foreach(name ${names})
  file(READ "${SRC_DIR}/${name}" text)
  string(FIND "${text}" ")kt_embed\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${name} contains the raw-string delimiter )kt_embed\"")
  endif()
  string(APPEND content "      {\"kernels/cuda/${name}\", R\"kt_embed(${text})kt_embed\"},\n")
endforeach()
string(APPEND content "  };\n  return headers;\n}\n\n}  // namespace kt::nvrtc\n")
file(WRITE "${OUT}.tmp" "${content}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
