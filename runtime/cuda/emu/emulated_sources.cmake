# The emulated build's .cu sources: each one becomes a generated .cpp for the host compiler. A kernel launched
# with CUDA's chevrons, kernel<<<grid, block, smem, stream>>>(args), is rewritten on the way to
# kernel * ::emu::detail::chevron(grid, block, smem, stream)(args) (g++ cannot parse <<<); #line keeps
# diagnostics and __FILE__ pointing at the original file.
#   engine_emu_cuda_sources(out_var sources...)      in a CMakeLists.txt
#   cmake -DINPUT=x.cu -DOUTPUT=x.cpp -P this file    the rewrite itself, run at build time

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.24)
  file(READ "${INPUT}" text)
  set(result "")
  while(TRUE)
    string(FIND "${text}" "<<<" open)
    if(open EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${text}" 0 ${open} before)
    math(EXPR after_open "${open} + 3")
    string(SUBSTRING "${text}" ${after_open} -1 text)
    string(FIND "${text}" ">>>" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "${INPUT}: <<< without a matching >>>")
    endif()
    string(SUBSTRING "${text}" 0 ${close} config)
    math(EXPR after_close "${close} + 3")
    string(SUBSTRING "${text}" ${after_close} -1 text)
    string(APPEND result "${before} * ::emu::detail::chevron(${config})")
  endwhile()
  string(APPEND result "${text}")
  file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} for the CUDA emulator\n#line 1 \"${INPUT}\"\n${result}")
  file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
  file(REMOVE "${OUTPUT}.tmp")
  return()
endif()

set(ENGINE_EMU_REWRITE_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

function(engine_emu_cuda_sources out_var)
  set(result)
  foreach(source ${ARGN})
    if(source MATCHES "\\.cu$")
      file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${source})
      string(REPLACE "/" "__" flat ${rel})
      set(wrapper ${PROJECT_BINARY_DIR}/emulated_cuda/${flat}.cpp)
      add_custom_command(OUTPUT ${wrapper}
                         COMMAND ${CMAKE_COMMAND} -DINPUT=${source} -DOUTPUT=${wrapper} -P ${ENGINE_EMU_REWRITE_SCRIPT}
                         DEPENDS ${source} ${ENGINE_EMU_REWRITE_SCRIPT}
                         COMMENT "Preparing ${rel} for the CUDA emulator" VERBATIM)
      get_filename_component(dir ${source} DIRECTORY)
      set_source_files_properties(${wrapper} PROPERTIES COMPILE_OPTIONS "-iquote;${dir}")
      list(APPEND result ${wrapper})
    else()
      list(APPEND result ${source})
    endif()
  endforeach()
  set(${out_var} ${result} PARENT_SCOPE)
endfunction()
