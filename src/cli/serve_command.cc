// reftrack serve [--listen HOST:PORT] [--threads N] [--max-upload-mb N] [--access-log FILE|-]
// the HTTP API (SPEC §6) until SIGTERM or Ctrl-C, which it answers by finishing the
// requests in flight first.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "cli/common.h"
#include "http/api.h"
#include "http/server.h"

namespace reftrack::cli {

namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;
  uint64_t max_upload_mb = 512;
  std::string access_log = "-";
};

// On a database with no key at all, makes an admin key and prints it, so a new
// installation can be used at once; it is shown this once.
void FirstKey(Context& ctx) {
  auto session = OpenSession(ctx);
  if (!session) return;
  auto keys = session->engine->ApiKeys();
  if (!keys || !keys->empty()) return;
  auto made = session->engine->AddApiKey("first-admin", "admin");
  if (!made) return;
  fmt::print(
      "No API key existed, so an admin key was made (shown this once; `reftrack apikey` "
      "manages keys):\n  {}\n",
      made->secret);
}

void Serve(Context& ctx, const ServeOptions& options) {
  size_t colon = options.listen.rfind(':');
  unsigned port = 0;
  if (colon == std::string::npos ||
      std::sscanf(options.listen.c_str() + colon + 1, "%u", &port) != 1 || port > 65535) {
    return ReportError(ctx, Error{ErrorCode::kInvalidInput,
                                  fmt::format("--listen {}: use HOST:PORT, e.g. 127.0.0.1:8080",
                                              options.listen)});
  }
  std::string host = options.listen.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  std::FILE* log = nullptr;
  if (options.access_log == "-") {
    log = stderr;
  } else if (!options.access_log.empty()) {
    log = std::fopen(options.access_log.c_str(), "a");
    if (log == nullptr) {
      return ReportError(ctx, Error{ErrorCode::kInvalidInput,
                                    fmt::format("cannot open {} for the access log",
                                                options.access_log)});
    }
  }
  std::string url = DatabaseUrl(ctx);
  bool postgres = url.starts_with("postgres");
  http::ApiOptions api_options;
  api_options.db_url = url;
  api_options.max_upload_bytes = options.max_upload_mb << 20;
  api_options.writers = postgres ? 4 : 1;
  api_options.access_log = log;
  auto api = http::Api::Create(api_options);
  if (!api) return ReportError(ctx, api.error());
  FirstKey(ctx);

  http::ServerOptions server_options;
  server_options.host = host;
  server_options.port = static_cast<uint16_t>(port);
  server_options.threads = options.threads > 0
                               ? options.threads
                               : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  http::Server server(**api, server_options);
  auto bound = server.Listen();
  if (!bound) return ReportError(ctx, bound.error());
  fmt::print("reftrack: listening on http://{}:{} ({} threads, database {})\n", host, *bound,
             server_options.threads, postgres ? "PostgreSQL" : url);
  std::fflush(stdout);
  server.Run();
  api->reset();  // finishes the writes queued, then closes the database
  if (log != nullptr && log != stderr) std::fclose(log);
  fmt::print("reftrack: stopped\n");
}

}  // namespace

void AddServeCommand(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = app.add_subcommand(
      "serve", "the HTTP API and web page, until SIGTERM or Ctrl-C (requests in flight finish)");
  serve->add_option("--listen", options->listen, "address and port")->capture_default_str();
  serve->add_option("--threads", options->threads, "network threads (default: the cores, >= 2)");
  serve->add_option("--max-upload-mb", options->max_upload_mb,
                    "largest upload (imports, qualify lists) in MiB")
      ->capture_default_str();
  serve->add_option("--access-log", options->access_log,
                    "one JSON line per request to this file; '-' is stderr, '' none")
      ->capture_default_str();
  serve->callback([&ctx, options] { Serve(ctx, *options); });
}

}  // namespace reftrack::cli
