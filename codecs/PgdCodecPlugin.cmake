# pgd_add_codec_plugin(<name> <sources...>)
#
# Builds a codec plugin: the target pgd_codec_<name> (prefixed so a plugin
# called "json" cannot collide with another target), a MODULE library whose
# file is exactly <name>.so (no "lib" prefix) in ${PGD_CODEC_OUTPUT_DIR}, compiled with hidden visibility so the
# only exported symbol is the entry point marked PGD_CODEC_EXPORT
# (pgd_codec_module_v1).  Plugins see only codecs/include and link nothing
# from the host (no libpq, no driver); libm is linked for the float and
# numeric families.  Installed to ${PGD_CODEC_INSTALL_DIR}.
#
# Usable from outside this tree too (include this file after setting
# PGD_CODEC_OUTPUT_DIR / PGD_CODEC_INSTALL_DIR, and PGD_CODEC_INCLUDE_DIR if
# the headers live elsewhere).

if(NOT DEFINED PGD_CODEC_INCLUDE_DIR)
  set(PGD_CODEC_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/include)
endif()

function(pgd_add_codec_plugin name)
  if(ARGC LESS 2)
    message(FATAL_ERROR "pgd_add_codec_plugin(${name}): no sources given")
  endif()
  set(target pgd_codec_${name})
  add_library(${target} MODULE ${ARGN})
  target_include_directories(${target} PRIVATE ${PGD_CODEC_INCLUDE_DIR})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${PGD_CODEC_OUTPUT_DIR})
  # Refuse undefined symbols at link time: a plugin must not depend on
  # anything the host might happen to export.
  if(NOT PGD_SANITIZE)
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
  target_link_libraries(${target} PRIVATE m)
  if(DEFINED PGD_CODEC_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${PGD_CODEC_INSTALL_DIR})
  endif()
  set_property(GLOBAL APPEND PROPERTY PGD_CODEC_PLUGINS ${target})
endfunction()
