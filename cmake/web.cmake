# The web page (web/): built by scripts/build-web.sh (npm ci when needed, tsc, Vite)
# into ${CMAKE_BINARY_DIR}/web, beside the reftrack executable, where `reftrack serve`
# finds it. Rebuilt when a source file, the lock file or the build settings change.
file(GLOB_RECURSE WEB_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/web/src/*
  ${CMAKE_SOURCE_DIR}/web/public/*)
set(WEB_INPUTS
  ${WEB_SOURCES}
  ${CMAKE_SOURCE_DIR}/web/index.html
  ${CMAKE_SOURCE_DIR}/web/package.json
  ${CMAKE_SOURCE_DIR}/web/package-lock.json
  ${CMAKE_SOURCE_DIR}/web/tsconfig.json
  ${CMAKE_SOURCE_DIR}/web/vite.config.ts)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/web/index.html
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/build-web.sh ${CMAKE_BINARY_DIR}/web
  DEPENDS ${WEB_INPUTS} ${CMAKE_SOURCE_DIR}/scripts/build-web.sh
  COMMENT "Building the web page (web/ -> build/web)"
  VERBATIM)
add_custom_target(web ALL DEPENDS ${CMAKE_BINARY_DIR}/web/index.html)
