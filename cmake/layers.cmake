# The layers of docs/ARCHITECTURE.md as include roots. Each layer's library compiles
# with one include directory, ${CMAKE_BINARY_DIR}/layers/<layer>, made here of
# symbolic links to the folders of src/ that the layer may include: its own and
# those below it. An include against the arrows (engine/ including "http/...") finds
# no such file and fails to build. Above the engine only store/store.h is seen (the
# engine's interface names Store), not the stores themselves.
#
# The include directories are PRIVATE: a library that links another gets its symbols
# and third-party usage requirements, never its include root. Tests, fuzz targets and
# tools see all of src/ through reftrack_core.

set(REFTRACK_LAYERS_DIR ${CMAKE_BINARY_DIR}/layers)

# reftrack_layer(NAME ENTRY...): makes ${REFTRACK_LAYERS_DIR}/NAME with a link for each
# ENTRY, a folder or file of src/ ("engine", "store/store.h"), and sets
# REFTRACK_LAYER_<NAME> to its path.
function(reftrack_layer name)
  set(root ${REFTRACK_LAYERS_DIR}/${name})
  file(REMOVE_RECURSE ${root})  # removes the links, not what they point to
  foreach(entry IN LISTS ARGN)
    if(NOT EXISTS ${CMAKE_SOURCE_DIR}/src/${entry})
      message(FATAL_ERROR "layer ${name}: src/${entry} does not exist")
    endif()
    get_filename_component(parent ${root}/${entry} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${entry} ${root}/${entry} SYMBOLIC)
  endforeach()
  set(REFTRACK_LAYER_${name} ${root} PARENT_SCOPE)
endfunction()

reftrack_layer(util   util)
reftrack_layer(domain util domain)
reftrack_layer(csv    util csv)
reftrack_layer(store  util domain store)
reftrack_layer(engine util domain csv store/store.h engine)
reftrack_layer(http   util domain csv store/store.h engine http)
reftrack_layer(cli    util domain csv store/store.h engine http cli)

# reftrack_layer_target(TARGET LAYER): TARGET compiles with LAYER's include root only.
function(reftrack_layer_target target layer)
  target_include_directories(${target} PRIVATE ${REFTRACK_LAYER_${layer}})
endfunction()
