#include "http/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <stdexcept>

namespace reftrack::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (SameName(n, name)) return v;
  }
  return "";
}

nlohmann::json HttpResponse::Json() const {
  nlohmann::json value = nlohmann::json::parse(body, nullptr, false);
  if (value.is_discarded()) {
    ADD_FAILURE() << "the body is not JSON (status " << status << "): " << body.substr(0, 500);
    return nullptr;
  }
  return value;
}

struct HttpClient::Impl {
  Impl(uint16_t port, std::string host) : port(port), host(std::move(host)) {}

  void Connect() {
    stream.emplace(ioc);
    stream->expires_after(std::chrono::seconds(10));
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address(host), port);
    stream->connect(endpoint);  // throws boost::system::system_error
    connected = true;
  }

  void Disconnect() {
    if (stream) {
      beast::error_code ec;
      stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      stream->socket().close(ec);
      stream.reset();
    }
    connected = false;
  }

  uint16_t port;
  std::string host;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  bool connected = false;
};

HttpClient::HttpClient(uint16_t port, std::string host)
    : impl_(std::make_unique<Impl>(port, std::move(host))) {}

HttpClient::~HttpClient() { impl_->Disconnect(); }

bool HttpClient::connected() const { return impl_->connected; }

HttpResponse HttpClient::Send(const HttpRequest& request) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(request.method);
  req.target(request.target);
  req.version(11);
  req.set(bhttp::field::host, impl_->host + ":" + std::to_string(impl_->port));
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  if (request.chunked) {
    req.chunked(true);
  } else {
    req.prepare_payload();
  }
  // A kept-alive connection may have been closed by the server meanwhile: then the
  // request is sent again once on a new connection.
  for (int attempt = 0;; ++attempt) {
    bool reused = impl_->connected;
    try {
      if (!impl_->connected) impl_->Connect();
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("cannot connect: ") + e.what());
    }
    beast::tcp_stream& stream = *impl_->stream;
    stream.expires_after(std::chrono::seconds(60));
    beast::error_code write_ec;
    if (request.header_only) {
      req.content_length(request.body.size());
      bhttp::request<bhttp::empty_body> head(req.base());
      bhttp::request_serializer<bhttp::empty_body> serializer(head);
      bhttp::write_header(stream, serializer, write_ec);
    } else {
      bhttp::write(stream, req, write_ec);
    }
    // A server that answers before reading the whole body (413, 401) may close while
    // the body is still being written: its answer is read all the same.
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    beast::error_code read_ec;
    bhttp::read(stream, buffer, parser, read_ec);
    if (read_ec) {
      impl_->Disconnect();
      bool nothing_read = read_ec == bhttp::error::end_of_stream ||
                          read_ec == asio::error::connection_reset || read_ec == asio::error::eof;
      if (reused && nothing_read && attempt == 0) continue;
      throw std::runtime_error("no answer to " + request.method + " " + request.target + ": " +
                               read_ec.message() +
                               (write_ec ? " (writing: " + write_ec.message() + ")" : ""));
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    if (!res.keep_alive() || write_ec) impl_->Disconnect();
    return out;
  }
}

RawConnection::RawConnection(uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error("cannot connect to port " + std::to_string(port));
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

bool RawConnection::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string RawConnection::ReadUntil(std::string_view until, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.find(until) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[4096];
    ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      peer_closed_ = true;
      break;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace reftrack::testing
