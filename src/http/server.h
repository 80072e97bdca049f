// The HTTP/1.1 server: Boost.Beast on a few threads (no thread per connection),
// keep-alive, header and idle timeouts, bodies read into memory or streamed to a
// temporary file with a limit per route, and a graceful stop on SIGTERM or SIGINT:
// it stops accepting, lets every request in flight finish and be answered, then
// returns. Beast stays inside server.cc and connection.cc (server_impl.h); the
// application sees only http/message.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/message.h"
#include "util/result.h"

namespace reftrack::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (Listen() says which)
  int threads = 2;
  std::string temp_dir;  // for uploads; empty: the system's
  int header_timeout_s = 30;  // to read a request's header, and to wait for the next one
  int body_timeout_s = 60;    // with no byte of the body arriving
  // The least average rate of a body, in bytes a second, once body_timeout_s have
  // passed since its header arrived; 0: none.
  int min_body_rate = 1024;
};

class Server {
 public:
  Server(Application& app, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address; returns the port it listens on.
  Result<uint16_t> Listen();
  // Serves until SIGTERM or SIGINT (or Stop()), then stops gracefully and returns.
  void Run();
  // Asks Run() to stop gracefully; safe from any thread.
  void Stop();

  struct Impl;  // in server_impl.h, with Beast

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace reftrack::http
