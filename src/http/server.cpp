#include "http/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>
#include <typeinfo>
#include <vector>

#include "core/log.h"
#include "http/dispatcher.h"
#include "http/session.h"
#include "http/tls.h"

namespace renkei::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Server::Impl {
  Impl(ServerOptions opts, RouteTable routes, Authenticator authenticator, ReadinessCheck ready)
      : options(std::move(opts)),
        dispatcher(options, std::move(routes), std::move(authenticator), std::move(ready)),
        ioc(std::max(options.io_threads, 1)),
        acceptor(asio::make_strand(ioc)),
        accept_retry(acceptor.get_executor()) {}

  void DoAccept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          [this](boost::system::error_code ec, tcp::socket socket) {
                            if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
                            if (ec) {
                              // Typically EMFILE: back off briefly instead of spinning on the
                              // failing accept.
                              log::Warn("http.accept_failed", {{"error", ec.message()}});
                              accept_retry.expires_after(std::chrono::milliseconds(50));
                              accept_retry.async_wait([this](boost::system::error_code wait_ec) {
                                if (!wait_ec) DoAccept();
                              });
                              return;
                            }
                            if (registry.size() >= options.max_connections) {
                              boost::system::error_code ignored;
                              socket.close(ignored);
                            } else {
                              boost::system::error_code nodelay_ec;
                              socket.set_option(tcp::no_delay(true), nodelay_ec);
                              StartSession(std::move(socket), session_context);
                            }
                            DoAccept();
                          });
  }

  // Members are destroyed in reverse order: the worker pool first (its queued completions
  // hold sessions), then the acceptor and io_context (destroying the remaining sessions),
  // and only then what sessions point to (registry, TLS context, dispatcher).
  ServerOptions options;
  Dispatcher dispatcher;
  ConnectionRegistry registry;
  std::unique_ptr<asio::ssl::context> tls;
  TrustedProxies trusted_proxies;
  HeldResponses held;
  SessionContext session_context;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<asio::thread_pool> workers;
  std::vector<std::thread> io_threads;
  uint16_t port = 0;

  std::mutex stop_mu;  // held for the whole of Stop(): a second caller waits for the first
  bool running = false;
  bool stopped = false;

  std::mutex signal_mu;
  asio::io_context* signal_ioc = nullptr;
  bool stop_requested = false;
};

Server::Server(ServerOptions options, RouteTable routes, Authenticator authenticator,
               ReadinessCheck ready)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(routes), std::move(authenticator),
                                   std::move(ready))) {}

Server::~Server() {
  Stop();
}

Status Server::Start() {
  Impl& s = *impl_;
  std::lock_guard lock(s.stop_mu);
  if (s.running || s.stopped) {
    return MakeError(ErrorCode::kInternal, "server already started");
  }
  RK_TRY(s.dispatcher.init_status());
  RK_ASSIGN_OR_RETURN(s.trusted_proxies, TrustedProxies::Parse(s.options.trusted_proxies));
  if (s.options.tls) {
    RK_ASSIGN_OR_RETURN(s.tls, MakeServerTlsContext(*s.options.tls));
  }
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(s.options.host, ec);
  if (ec) {
    tcp::resolver resolver(s.ioc);
    auto results = resolver.resolve(s.options.host, "", ec);
    if (ec || results.empty()) {
      return MakeError(ErrorCode::kInvalid, "cannot resolve listen host " + s.options.host);
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, s.options.port);
  std::string where = s.options.host + ":" + std::to_string(s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (ec) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot open socket for " + where + ": " + ec.message());
  }
  s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  s.acceptor.bind(endpoint, ec);
  if (ec) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return MakeError(ErrorCode::kUnavailable, "cannot bind " + where + ": " + ec.message());
  }
  s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return MakeError(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  }
  s.port = s.acceptor.local_endpoint().port();

  s.session_context.options = &s.options;
  s.session_context.dispatcher = &s.dispatcher;
  s.session_context.registry = &s.registry;
  s.session_context.held = &s.held;
  s.session_context.tls = s.tls.get();
  s.session_context.trusted_proxies = &s.trusted_proxies;
  s.session_context.local_authority =
      (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
      std::to_string(s.port);
  s.workers.emplace(static_cast<size_t>(std::max(s.options.worker_threads, 1)));
  s.session_context.workers = &*s.workers;
  s.work.emplace(s.ioc.get_executor());
  asio::post(s.acceptor.get_executor(), [&s] { s.DoAccept(); });
  for (int i = 0; i < std::max(s.options.io_threads, 1); ++i) {
    s.io_threads.emplace_back([&s] {
      // An exception escaping a completion handler must not end the process: log it and
      // keep serving the other connections.
      while (true) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {
          log::Error("http.io_exception", {{"exception", typeid(e).name()}});
        }
      }
    });
  }
  s.running = true;
  log::Info("http.listening",
            {{"host", s.options.host},
             {"port", static_cast<unsigned>(s.port)},
             {"tls", s.options.tls.has_value()},
             {"mutual_tls", s.options.tls.has_value() && !s.options.tls->client_ca_file.empty()}});
  return Ok();
}

uint16_t Server::port() const {
  return impl_->port;
}

void Server::Stop() {
  Impl& s = *impl_;
  std::lock_guard lock(s.stop_mu);
  {
    std::lock_guard signal_lock(s.signal_mu);
    s.stop_requested = true;
    if (s.signal_ioc != nullptr) s.signal_ioc->stop();
  }
  if (!s.running) return;
  s.running = false;
  s.stopped = true;
  log::Info("http.stopping", {{"connections", static_cast<unsigned long>(s.registry.size())}});

  // 1. No new connections.
  std::promise<void> acceptor_closed;
  asio::post(s.acceptor.get_executor(), [&s, &acceptor_closed] {
    boost::system::error_code ec;
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
    acceptor_closed.set_value();
  });
  acceptor_closed.get_future().wait();
  // 2. Idle connections close; busy ones answer what they have read, then close.
  s.registry.ShutdownAll();
  bool drained = s.registry.WaitEmpty(s.options.shutdown_timeout);
  if (!drained) {
    log::Warn("http.stop_timeout",
              {{"connections", static_cast<unsigned long>(s.registry.size())}});
    s.registry.CloseAll();
    s.registry.WaitEmpty(std::chrono::seconds(1));
  }
  // 3. Handlers still running finish (their answers have nowhere to go after a timeout).
  s.workers->join();
  // 4. Answers waiting for their audit commit are posted (they have nowhere to go after a
  // timeout, but must not reach a stopped I/O context).
  s.held.WaitNone();
  // 5. The I/O threads.
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.io_threads) t.join();
  s.io_threads.clear();
  log::Info("http.stopped", {{"drained", drained}});
}

void Server::WaitForSignal() {
  Impl& s = *impl_;
  asio::io_context signal_ioc(1);
  asio::signal_set signals(signal_ioc, SIGINT, SIGTERM);
  signals.async_wait([](boost::system::error_code ec, int signal_number) {
    if (!ec) log::Info("http.signal", {{"signal", signal_number}});
  });
  {
    std::lock_guard lock(s.signal_mu);
    if (s.stop_requested) return;
    s.signal_ioc = &signal_ioc;
  }
  signal_ioc.run();
  {
    std::lock_guard lock(s.signal_mu);
    s.signal_ioc = nullptr;
  }
  Stop();
}

Response Server::Handle(Request& request) {
  return impl_->dispatcher.Handle(request, std::chrono::steady_clock::now());
}

}  // namespace renkei::http
