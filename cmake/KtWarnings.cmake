# kt_target_warnings(target): warnings for kt's own code; errors with KT_WERROR.
# Applied per target so that generated or third-party code is not affected.
function(kt_target_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${KT_WERROR}>>:-Werror>)
endfunction()

# kt_cc_library(NAME name SRCS ... DEPS ...): a static library of kt code.
function(kt_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  kt_target_warnings(${ARG_NAME})
endfunction()

# kt_cc_test(NAME name SRCS ... DEPS ...): a GoogleTest binary registered with ctest.
function(kt_cc_test)
  if(NOT KT_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  kt_target_warnings(${ARG_NAME})
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60)
endfunction()
