# VFHOOK_SANITIZE, applied to every executable of the project once all directories are added:
#  - cmake/sanitizer_options.c, whose default options make a sanitizer report abort the
#    process (a black-box test runs the hook with an empty environment, as libvirt does, so
#    ASAN_OPTIONS cannot reach it);
#  - no -static-libstdc++/-static-libgcc (the hook front end links them statically). The ASan
#    runtime exports the C++ ABI entry points it intercepts (__cxa_throw, ...); with a static
#    libstdc++ those exported names resolve to the executable's own copy of the C++ runtime,
#    so an exception thrown in a shared library (toml++'s parse_error, inside the dlopen()ed
#    core) is thrown by one runtime and sought by another: never caught, std::terminate.
function(vfhook_add_sanitizer_options dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/sanitizer_options.c)
      get_target_property(options ${target} LINK_OPTIONS)
      if(options)
        list(REMOVE_ITEM options -static-libstdc++ -static-libgcc)
        set_property(TARGET ${target} PROPERTY LINK_OPTIONS ${options})
      endif()
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    vfhook_add_sanitizer_options(${subdir})
  endforeach()
endfunction()
