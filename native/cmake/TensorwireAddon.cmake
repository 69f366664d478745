# TensorwireAddon.cmake: tensorwire_add_addon turns a list of sources into a node-addon-api addon
# built by cmake-js. Every tensorwire addon (plugins/*/native/CMakeLists.txt) uses it so that
# flags, defines and include paths stay identical across addons.
#
#   include(${CMAKE_CURRENT_LIST_DIR}/../../../native/cmake/TensorwireAddon.cmake)
#   tensorwire_add_addon(tensorwire_gloo SOURCES src/addon.cc src/group.cc)
#   target_link_libraries(tensorwire_gloo PRIVATE gloo)
#
# Produces <target>.node (cmake-js looks for it in the build dir's Release/ or root).
cmake_minimum_required(VERSION 3.15)

# Where this module lives: native/cmake -> native/include holds the shared headers.
set(TENSORWIRE_NATIVE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." CACHE INTERNAL "tensorwire native/ dir")
get_filename_component(TENSORWIRE_NATIVE_DIR "${TENSORWIRE_NATIVE_DIR}" ABSOLUTE)

# node-addon-api's include dir. Asked from node (not a hard-coded node_modules path) because npm
# workspaces hoist packages to whichever node_modules level they like. include_dir is relative to
# the working directory, hence path.resolve. Override with -DTENSORWIRE_NODE_ADDON_API_DIR=...
function(_tensorwire_find_node_addon_api out_var)
  if(DEFINED TENSORWIRE_NODE_ADDON_API_DIR AND EXISTS "${TENSORWIRE_NODE_ADDON_API_DIR}/napi.h")
    set(${out_var} "${TENSORWIRE_NODE_ADDON_API_DIR}" PARENT_SCOPE)
    return()
  endif()
  find_program(TENSORWIRE_NODE_EXECUTABLE NAMES node nodejs REQUIRED)
  execute_process(
    COMMAND "${TENSORWIRE_NODE_EXECUTABLE}" -p "require('path').resolve(require('node-addon-api').include_dir)"
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    OUTPUT_VARIABLE dir
    ERROR_VARIABLE err
    RESULT_VARIABLE rc
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\"" "" dir "${dir}")
  if(NOT rc EQUAL 0 OR NOT EXISTS "${dir}/napi.h")
    message(FATAL_ERROR
      "tensorwire: cannot find node-addon-api (require('node-addon-api') from "
      "${CMAKE_CURRENT_SOURCE_DIR} failed: ${err}). Install the workspace's dependencies "
      "(npm install at the repository root) and rebuild.")
  endif()
  set(TENSORWIRE_NODE_ADDON_API_DIR "${dir}" CACHE PATH "node-addon-api include dir" FORCE)
  set(${out_var} "${dir}" PARENT_SCOPE)
endfunction()

# tensorwire_add_addon(<target> SOURCES <src>... [INCLUDE_DIRS <dir>...])
function(tensorwire_add_addon target)
  cmake_parse_arguments(TW "" "" "SOURCES;INCLUDE_DIRS" ${ARGN})
  if(NOT TW_SOURCES)
    message(FATAL_ERROR "tensorwire_add_addon(${target}): SOURCES is required")
  endif()
  _tensorwire_find_node_addon_api(napi_dir)

  add_library(${target} SHARED ${TW_SOURCES} ${CMAKE_JS_SRC})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    SUFFIX ".node"
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    POSITION_INDEPENDENT_CODE ON
    # Symbols stay private to the addon: two addons in one process must not clash.
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_definitions(${target} PRIVATE
    NAPI_VERSION=8
    NAPI_CPP_EXCEPTIONS
    NODE_ADDON_API_DISABLE_DEPRECATED
    BUILDING_NODE_EXTENSION)
  if(NOT MSVC)
    target_compile_options(${target} PRIVATE -O2 -fexceptions -Wall -Wextra -Wno-unused-parameter)
  endif()
  target_include_directories(${target} PRIVATE
    ${CMAKE_JS_INC}
    "${napi_dir}"
    "${TENSORWIRE_NATIVE_DIR}/include"
    ${TW_INCLUDE_DIRS})
  find_package(Threads REQUIRED)
  target_link_libraries(${target} PRIVATE ${CMAKE_JS_LIB} Threads::Threads)
  if(MSVC AND CMAKE_JS_NODELIB_DEF AND CMAKE_JS_NODELIB_TARGET)
    execute_process(COMMAND ${CMAKE_AR} /def:${CMAKE_JS_NODELIB_DEF} /out:${CMAKE_JS_NODELIB_TARGET} ${CMAKE_STATIC_LINKER_FLAGS})
  endif()
endfunction()

# tensorwire_add_mock_library(<target> SOURCES <src>... EXPORTS <version script>
#                             [INCLUDE_DIRS <dir>...])
# A plain shared library standing in for a vendor library in tests (the mock CUDA driver, the
# mock NCCL): C++17, symbols hidden except those the version script exports, so that it loads
# beside the addons and the real library's users see only the vendor API.
function(tensorwire_add_mock_library target)
  cmake_parse_arguments(TW "" "EXPORTS" "SOURCES;INCLUDE_DIRS" ${ARGN})
  if(NOT TW_SOURCES OR NOT TW_EXPORTS)
    message(FATAL_ERROR "tensorwire_add_mock_library(${target}): SOURCES and EXPORTS are required")
  endif()
  add_library(${target} SHARED ${TW_SOURCES})
  set_target_properties(${target} PROPERTIES
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${TW_EXPORTS}")
  target_include_directories(${target} PRIVATE ${TW_INCLUDE_DIRS})
  target_compile_options(${target} PRIVATE -O2 -Wall -Wextra -Wno-unused-parameter)
  find_package(Threads REQUIRED)
  target_link_libraries(${target} PRIVATE Threads::Threads ${CMAKE_DL_LIBS} "-Wl,--version-script=${TW_EXPORTS}")
endfunction()
