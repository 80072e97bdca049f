// The server's insides, shared by server.cc (listening, threads, stopping) and
// connection.cc (one connection's requests): the only files that see Boost.Beast.
#pragma once

// clang-format off
#include <utility>  // first: Asio 1.74 uses std::exchange without including it
// clang-format on
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <vector>

#include "http/server.h"

namespace reftrack::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Server::Impl {
  Impl(Application& app, ServerOptions options)
      : app(app),
        options(std::move(options)),
        contexts(MakeContexts(this->options.threads)),
        ioc(*contexts[0]),
        acceptor(ioc),
        signals(ioc, SIGTERM, SIGINT) {}

  // One io_context per thread: a connection lives on one of them, so its handlers
  // never run concurrently and threads do not contend for one queue.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, threads); ++i)
      out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  void Accept();
  void BeginStop();
  void FinishWhenIdle();

  Application& app;
  ServerOptions options;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  asio::io_context& ioc;  // the first: accepting, signals, stopping
  size_t next_context = 0;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};  // requests whose header is read, not yet answered
  std::unique_ptr<asio::steady_timer> drain_timer;
};

// Serves a connection just accepted, on the io_context it was accepted on, until it
// closes.
void StartConnection(tcp::socket socket, Server::Impl& server);

}  // namespace reftrack::http
