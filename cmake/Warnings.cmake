# The warning set from STYLE.md, adopted on day one. -Werror with RESONA_WERROR (CI).
set(RESONA_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wconversion -Wsign-conversion -Wformat=2 -Wvla -Wimplicit-fallthrough)
if(RESONA_WERROR)
  list(APPEND RESONA_WARNINGS -Werror)
endif()

# Apply our warnings to one of our own targets (not to generated protobuf code).
function(resona_warnings target)
  target_compile_options(${target} PRIVATE ${RESONA_WARNINGS})
endfunction()
