# Writes OUT, a C++ file whose OpenApiDocument() returns the text of IN.
file(READ ${IN} CONTENT)
file(WRITE ${OUT} "// Generated from src/http/openapi.json by cmake/embed_openapi.cmake.
#include \"http/api.h\"

namespace reftrack::http {

std::string_view OpenApiDocument() {
  static constexpr char kDocument[] = R\"OPENAPI(${CONTENT})OPENAPI\";
  return {kDocument, sizeof(kDocument) - 1};
}

}  // namespace reftrack::http
")
