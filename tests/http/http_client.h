// A small blocking HTTP/1.1 client for the HTTP API tests, on Boost.Beast: one
// connection, kept alive between requests while the server allows it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reftrack::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  Headers headers;
  std::string body;
  // Sends the body with chunked transfer encoding instead of a Content-Length.
  bool chunked = false;
  // Sends only the header (its Content-Length says the body's size): for answers that
  // must come before any body byte is read.
  bool header_only = false;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  // The first header called `name` (case-insensitively), or "" when there is none.
  std::string Header(std::string_view name) const;
  // The body as JSON; a parse failure is a null value with the failure recorded.
  nlohmann::json Json() const;
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and waits for the answer (at most 60 s). Throws std::runtime_error
  // when there is no answer: connection refused, closed or timed out.
  HttpResponse Send(const HttpRequest& request);

  // Whether the last answer left the connection open for the next request.
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A bare TCP connection, for what HttpClient cannot send: a header alone waiting for
// "100 Continue", or a body sent in parts with pauses between them.
class RawConnection {
 public:
  // Connects to 127.0.0.1:`port`; throws std::runtime_error when it cannot.
  explicit RawConnection(uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Writes all of `bytes`; false when the connection is broken.
  bool Write(std::string_view bytes);
  // What arrives until `until` is in it, the peer closes, or `timeout` passes.
  std::string ReadUntil(std::string_view until, std::chrono::milliseconds timeout);
  // Whether a read found the connection closed (or reset) by the peer.
  bool peer_closed() const { return peer_closed_; }

 private:
  int fd_ = -1;
  bool peer_closed_ = false;
};

}  // namespace reftrack::testing
