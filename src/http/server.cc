#include "http/server.h"

#include <fmt/format.h>

#include <thread>
#include <vector>

#include "http/server_impl.h"

namespace reftrack::http {

void Server::Impl::Accept() {
  asio::io_context& home = *contexts[next_context++ % contexts.size()];
  acceptor.async_accept(home, [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (stopping || !acceptor.is_open()) return;
    } else {
      beast::error_code nodelay;
      socket.set_option(tcp::no_delay(true), nodelay);
      StartConnection(std::move(socket), *this);
    }
    Accept();
  });
}

void Server::Impl::BeginStop() {
  if (stopping.exchange(true)) return;
  beast::error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  drain_timer = std::make_unique<asio::steady_timer>(ioc);
  FinishWhenIdle();
}

// Waits for the requests in flight (an import may take a while) before stopping.
void Server::Impl::FinishWhenIdle() {
  if (in_flight == 0) {
    for (auto& context : contexts) context->stop();
    return;
  }
  drain_timer->expires_after(std::chrono::milliseconds(20));
  drain_timer->async_wait([this](beast::error_code) { FinishWhenIdle(); });
}

Server::Server(Application& app, ServerOptions options)
    : impl_(std::make_unique<Impl>(app, std::move(options))) {}

Server::~Server() = default;

Result<uint16_t> Server::Listen() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("\"{}\" is not an IP address to listen on", impl_->options.host));
  }
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("cannot listen on {}:{}: {}", impl_->options.host, impl_->options.port,
                            ec.message()));
  }
  return acceptor.local_endpoint().port();
}

void Server::Run() {
  Impl& s = *impl_;
  s.signals.async_wait([&s](beast::error_code ec, int) {
    if (!ec) s.BeginStop();
  });
  s.Accept();
  std::vector<std::thread> threads;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> busy;
  for (auto& context : s.contexts) busy.push_back(asio::make_work_guard(*context));
  for (size_t i = 1; i < s.contexts.size(); ++i) {
    threads.emplace_back([&s, i] { s.contexts[i]->run(); });
  }
  s.ioc.run();
  for (std::thread& t : threads) t.join();
}

void Server::Stop() {
  asio::post(impl_->ioc, [this] { impl_->BeginStop(); });
}

}  // namespace reftrack::http
