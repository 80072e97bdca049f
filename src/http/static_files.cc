#include "http/static_files.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace reftrack::http {

namespace fs = std::filesystem;

namespace {

std::string_view ContentTypeOf(std::string_view path) {
  struct Type {
    std::string_view extension;
    std::string_view type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},          {".svg", "image/svg+xml"},
      {".png", "image/png"},                  {".ico", "image/x-icon"},
      {".webp", "image/webp"},                {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},  {".map", "application/json"},
      {".webmanifest", "application/manifest+json"}};
  for (const Type& t : kTypes) {
    if (path.size() >= t.extension.size() &&
        path.substr(path.size() - t.extension.size()) == t.extension) {
      return t.type;
    }
  }
  return "application/octet-stream";
}

// Whether the last segment of `path` has a dot: a file, not a route of the page.
bool HasExtension(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return last.find('.') != std::string_view::npos;
}

}  // namespace

void AddPageHeaders(Response& response) {
  response.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
      "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "same-origin");
}

Result<StaticFiles> StaticFiles::Load(const std::string& root) {
  std::error_code ec;
  fs::path base = fs::canonical(root, ec);
  if (ec || !fs::is_regular_file(base / "index.html")) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("--web-root {}: no index.html there (build the page with `make`)",
                            root));
  }
  StaticFiles files;
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in) return Fail(ErrorCode::kInvalidInput, fmt::format("cannot read {}", it->path().string()));
    std::string rel = "/" + fs::relative(it->path(), base).generic_string();
    File file{content.str(), std::string(ContentTypeOf(rel)), rel.starts_with("/assets/")};
    files.bytes_ += file.content.size();
    files.files_.emplace(std::move(rel), std::move(file));
  }
  if (ec) return Fail(ErrorCode::kInvalidInput, fmt::format("reading {}: {}", root, ec.message()));
  return files;
}

Response StaticFiles::Serve(std::string_view path) const {
  auto it = files_.find(path == "/" ? std::string_view("/index.html") : path);
  if (it == files_.end() && !HasExtension(path)) it = files_.find(std::string_view("/index.html"));
  Response r;
  if (it == files_.end()) {
    r = Problem(404, fmt::format("no file {}", path));
  } else {
    r.content_type = it->second.content_type;
    r.body = it->second.content;
    r.headers.emplace_back("Cache-Control", it->second.immutable
                                                ? "public, max-age=31536000, immutable"
                                                : "no-cache");
  }
  AddPageHeaders(r);
  return r;
}

}  // namespace reftrack::http
