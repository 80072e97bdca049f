// The web page's built files (web/, built by Vite), served at `/`. Every file is
// read into memory when the server starts, so a request can only ever get one of
// them: no path a client sends reaches the file system, and nothing outside the
// folder can be named. A path without an extension that is not a file is one of the
// page's own routes (`/referrals/42`) and gets index.html.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "http/message.h"
#include "util/result.h"

namespace reftrack::http {

// The headers every page gets: a strict Content-Security-Policy (no inline script or
// style, no framing), no MIME sniffing, no referrer to other sites.
void AddPageHeaders(Response& response);

class StaticFiles {
 public:
  // Reads every regular file under `root` (not following symbolic links);
  // kInvalidInput when `root` has no index.html.
  static Result<StaticFiles> Load(const std::string& root);

  // The answer to GET `path` (decoded, without the query).
  Response Serve(std::string_view path) const;

  size_t size() const { return files_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  struct File {
    std::string content;
    std::string content_type;
    bool immutable = false;  // under assets/: Vite names them by their content's hash
  };
  std::map<std::string, File, std::less<>> files_;  // by path from the root: "/assets/x.js"
  uint64_t bytes_ = 0;
};

}  // namespace reftrack::http
