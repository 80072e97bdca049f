// reftrack serve [--listen HOST:PORT] [--threads N] [--max-upload-mb N] [--access-log FILE|-]
//                [--web-root DIR | --api-only] [--demo]
//                [--header-timeout-s N] [--body-timeout-s N]
// the HTTP API (SPEC §6) and the web page until SIGTERM or Ctrl-C, which it answers by
// finishing the requests in flight first.
#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli/common.h"
#include "cli/demo_data.h"
#include "http/api.h"
#include "http/server.h"

namespace reftrack::cli {

namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;
  uint64_t max_upload_mb = 512;
  std::string access_log = "-";
  std::string web_root;  // empty: web/ beside the executable, when it is there
  bool demo = false;
  bool api_only = false;  // no web page, even when one is built
  int header_timeout_s = 30;
  int body_timeout_s = 60;
  int min_body_rate = 1024;
};

// The web page's files: --web-root, or else web/ beside this executable (where the
// build puts them), or none (the API alone).
Result<std::optional<http::StaticFiles>> LoadWebPage(const std::string& web_root) {
  if (!web_root.empty()) {
    auto files = http::StaticFiles::Load(web_root);
    if (!files) return std::unexpected(files.error());
    return std::optional<http::StaticFiles>(std::move(*files));
  }
  std::error_code ec;
  auto beside = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "web";
  if (ec || !std::filesystem::exists(beside / "index.html")) {
    return std::optional<http::StaticFiles>();
  }
  auto files = http::StaticFiles::Load(beside.string());
  if (!files) return std::unexpected(files.error());
  return std::optional<http::StaticFiles>(std::move(*files));
}

// On a database with no user, makes admin@localhost with a random password and prints
// it, so a newcomer can sign in to the web page at once; it is shown this once.
void FirstUser(Context& ctx) {
  auto session = OpenSession(ctx);
  if (!session) return;
  auto users = session->engine->UserCount();
  if (!users || *users > 0) return;
  std::string password = RandomHex32().substr(0, 20);
  auto user = session->engine->AddUser("admin@localhost", password);
  if (!user) return;
  fmt::print(
      "No user existed, so one was made for the web page (the password is shown this once; "
      "`reftrack user add` adds more):\n  email:    {}\n  password: {}\n",
      user->email, password);
}

void AddDemo(Context& ctx) {
  auto session = OpenSession(ctx);
  if (!session) return;
  auto added = AddDemoData(*session->engine);
  if (!added) return ReportError(ctx, added.error());
  fmt::print("{}", *added ? "--demo: added the campaign \"Demo\" with sample referrals\n"
                    : "--demo: the campaign \"Demo\" exists already; nothing added\n");
}

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
  if (!options.api_only) {
    auto web = LoadWebPage(options.web_root);
    if (!web) return ReportError(ctx, web.error());
    api_options.web = std::move(*web);
  }
  bool page = api_options.web.has_value();
  auto api = http::Api::Create(std::move(api_options));
  if (!api) return ReportError(ctx, api.error());
  FirstKey(ctx);
  FirstUser(ctx);
  if (options.demo) AddDemo(ctx);

  http::ServerOptions server_options;
  server_options.host = host;
  server_options.port = static_cast<uint16_t>(port);
  server_options.threads = options.threads > 0
                               ? options.threads
                               : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  server_options.header_timeout_s = options.header_timeout_s;
  server_options.body_timeout_s = options.body_timeout_s;
  server_options.min_body_rate = options.min_body_rate;
  http::Server server(**api, server_options);
  auto bound = server.Listen();
  if (!bound) return ReportError(ctx, bound.error());
  fmt::print("reftrack: listening on http://{}:{} ({} threads, database {}{})\n", host, *bound,
             server_options.threads, postgres ? "PostgreSQL" : url,
             page ? "" : "; no web page: build it with `make`");
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
  serve->add_option("--web-root", options->web_root,
                    "the built web page (default: web/ beside the reftrack executable)");
  serve->add_flag("--api-only", options->api_only, "serve the HTTP API alone, not the web page");
  serve->add_option("--header-timeout-s", options->header_timeout_s,
                    "seconds to receive a request's header, and to wait idle for the next one")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve->add_option("--body-timeout-s", options->body_timeout_s,
                    "seconds a request's body may go without a byte arriving")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve->add_option("--min-body-rate", options->min_body_rate,
                    "bytes a second a request's body must average once --body-timeout-s have "
                    "passed since its header (0: no minimum)")
      ->check(CLI::Range(0, 1 << 30))
      ->capture_default_str();
  serve->add_flag("--demo", options->demo,
                  "add a campaign \"Demo\" with sample referrals in every status (once)");
  serve->callback([&ctx, options] { Serve(ctx, *options); });
}

}  // namespace reftrack::cli
