#include "http/session.h"

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <deque>
#include <limits>
#include <optional>
#include <type_traits>

#include "core/log.h"
#include "fhir/operation_outcome.h"
#include "http/tls.h"
#include "http/wire.h"

namespace renkei::http {

// ---- Session -----------------------------------------------------------------------------

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = asio::ssl::stream<tcp::socket>;

// "No deadline": far enough to never fire, near enough to stay clear of overflow.
constexpr auto kFar = std::chrono::hours(24 * 365);
// Lingering close: how long to drain a client still sending after our final response, so the
// kernel does not reset the connection before the client has read it (RFC 9112 §9.6).
constexpr auto kLinger = std::chrono::seconds(2);

std::optional<Method> ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::patch:
      return Method::kPatch;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::options:
      return Method::kOptions;
    default:
      return std::nullopt;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && Lower(a) == Lower(b);
}

template <class Stream>
class Session final : public ConnectionRegistry::Entry,
                      public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(tcp::socket socket, const SessionContext& context)
      : stream_(MakeStream(std::move(socket), context)),
        context_(context),
        options_(*context.options),
        executor_(stream_.get_executor()),
        timer_(executor_) {
    beast::error_code ec;
    auto endpoint = Socket().remote_endpoint(ec);
    if (!ec) {
      peer_ = endpoint.address();
      client_address_ = peer_.to_string();
    }
    context_.dispatcher->metrics().AddConnections(1);
  }

  ~Session() override {
    context_.dispatcher->metrics().AddConnections(-1);
    context_.registry->Remove(this);
  }

  void Start() {
    if (!context_.registry->Add(this->shared_from_this())) {
      Close();
      return;
    }
    timer_.expires_after(kFar);
    ArmTimer();
    if constexpr (kTls) {
      UpdateDeadline();
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = this->shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
    } else {
      handshaken_ = true;
      DoRead();
    }
  }

  void BeginShutdown() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->OnShutdown(); });
  }

  void ForceClose() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  enum class Wait { kNone, kHandshake, kIdle, kBody, kHandler, kWrite, kLinger };

  // A request read from the wire, or a ready refusal, in arrival order.
  struct Pending {
    Request request;
    std::optional<Response> ready;
    bool keep_alive = true;
    bool head = false;
    bool http10 = false;  // HTTP/1.0 keeps a connection only when told so
    Clock::time_point received;
  };
  struct Outgoing {
    std::string head;
    std::string body;
    bool close = false;
  };

  static Stream MakeStream(tcp::socket socket, const SessionContext& context) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *context.tls);
    } else {
      return socket;
    }
  }

  tcp::socket& Socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // ---- timeouts ----

  Wait CurrentWait() const {
    if (lingering_) return Wait::kLinger;
    if (!handshaken_) return Wait::kHandshake;
    if (writing_) return Wait::kWrite;
    if (reading_ && reading_body_) return Wait::kBody;
    if (handling_ || !queue_.empty()) return Wait::kHandler;
    if (reading_) return Wait::kIdle;
    return Wait::kNone;
  }

  // The deadline follows what the connection waits for: the client's next header (idle
  // timeout), the client's body or its reading of our response (request timeout), or our
  // own handler (no deadline: handlers are bounded by the database, not the client).
  void UpdateDeadline() {
    Wait wait = CurrentWait();
    auto now = Clock::now();
    if (wait != wait_) {
      wait_ = wait;
      wait_since_ = now;
    }
    Clock::time_point deadline;
    switch (wait) {
      case Wait::kHandshake:
      case Wait::kBody:
      case Wait::kWrite:
        deadline = wait_since_ + options_.request_timeout;
        break;
      case Wait::kIdle:
        deadline = wait_since_ + options_.idle_timeout;
        break;
      case Wait::kLinger:
        deadline = wait_since_ + kLinger;
        break;
      case Wait::kHandler:
      case Wait::kNone:
        deadline = now + kFar;
        break;
    }
    deadline_ = deadline;
    // Moving the deadline earlier re-arms the timer (the cancelled wait re-arms in OnTimer);
    // moving it later is noticed when the timer fires.
    if (deadline < timer_.expiry()) timer_.expires_at(deadline);
  }

  void ArmTimer() {
    timer_.async_wait([self = this->shared_from_this()](beast::error_code) { self->OnTimer(); });
  }

  void OnTimer() {
    if (closed_) return;
    if (deadline_ <= Clock::now()) {
      log::Debug("http.timeout", {{"wait", static_cast<int>(wait_)}});
      Close();
      return;
    }
    timer_.expires_at(deadline_);
    ArmTimer();
  }

  // ---- reading ----

  void OnHandshake(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      log::Debug("http.tls_handshake_failed", {{"error", ec.message()}});
      Close();
      return;
    }
    handshaken_ = true;
    if constexpr (kTls) {
      if (context_.tls != nullptr && !options_.tls->client_ca_file.empty()) {
        cert_subject_ = PeerCertificateSubject(stream_.native_handle());
      }
    }
    DoRead();
  }

  void DoRead() {
    if (reading_ || read_closed_ || closed_ || lingering_ || !handshaken_) return;
    size_t pending = queue_.size() + (handling_ ? 1 : 0) + writes_.size();
    if (pending >= std::max<size_t>(options_.max_pipelined, 1)) return;  // resumed on write
    parser_.emplace();
    // Beast would check Content-Length against its default 1 MB limit while parsing the
    // header; the real limit depends on the route and is set once the header is read.
    parser_->body_limit(boost::none);
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(options_.limits.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    reading_ = true;
    UpdateDeadline();
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    reading_ = false;
    if (closed_) return;
    if (lingering_) {
      ec ? Close() : Drain();
      return;
    }
    if (ec) {
      OnReadError(ec);
      return;
    }
    if (read_closed_) {  // shutdown began while this header was on its way
      MaybeFinish();
      return;
    }
    current_ = Pending{};
    current_.received = Clock::now();
    auto& header = parser_->get();
    std::string_view client_id;
    if (auto it = header.find("x-request-id"); it != header.end()) client_id = it->value();

    std::optional<Method> method = ToMethod(header.method());
    Request& request = current_.request;
    Status target = ParseTarget(header.target(), request.path, request.query);
    if (!method) {
      std::string allow =
          target.ok() ? context_.dispatcher->router().AllowedMethods(request.path) : std::string();
      Error error = allow.empty() ? MakeError(ErrorCode::kNotFound, "no route for this path")
                                  : MakeError(ErrorCode::kMethodNotAllowed,
                                              "method not supported on this path");
      Refuse(error, context_.dispatcher->ForUnknownMethod().slot, header.method_string(), client_id,
             allow);
      return;
    }
    request.method = *method;
    if (!target.ok()) {
      Refuse(target.error(), context_.dispatcher->ForHeader(*method, "").slot, MethodName(*method),
             client_id);
      return;
    }
    auto info = context_.dispatcher->ForHeader(*method, request.path);
    auto content_length = parser_->content_length();
    if (content_length && *content_length > info.body_limit) {
      Refuse(TooLarge(info.body_limit), info.slot, MethodName(*method), client_id);
      return;
    }
    current_slot_ = info;
    parser_->body_limit(info.body_limit);
    if (parser_->is_done()) {
      OnBody({});
      return;
    }
    // A client that asked to wait (curl does for large bodies) gets the go-ahead, unless
    // earlier responses are still owed: 100 Continue may not overtake them.
    if (auto it = header.find(bhttp::field::expect);
        it != header.end() && IEquals(it->value(), "100-continue") && queue_.empty() &&
        !handling_ && writes_.empty()) {
      writes_.push_back(Outgoing{"HTTP/1.1 100 Continue\r\n\r\n", {}, false});
      DoWrite();
    }
    reading_ = true;
    reading_body_ = true;
    UpdateDeadline();
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    reading_ = false;
    reading_body_ = false;
    if (closed_) return;
    if (lingering_) {
      ec ? Close() : Drain();
      return;
    }
    Request& request = current_.request;
    if (ec == bhttp::error::body_limit) {
      Refuse(TooLarge(current_slot_.body_limit), current_slot_.slot, MethodName(request.method),
             {});
      return;
    }
    if (ec) {
      OnReadError(ec);
      return;
    }
    auto message = parser_->release();
    for (const auto& field : message) {
      std::string name = Lower(field.name_string());
      // Only the TLS layer may state a client certificate.
      if (name == kClientCertSubjectHeader) continue;
      auto [it, inserted] = request.headers.try_emplace(std::move(name), field.value());
      if (!inserted) {  // RFC 9110 §5.3: repeated fields combine with commas
        it->second += ", ";
        it->second += field.value();
      }
    }
    if (!cert_subject_.empty()) {
      request.headers.insert_or_assign(std::string(kClientCertSubjectHeader), cert_subject_);
    }
    request.body = std::move(message.body());
    request.client_address =
        context_.trusted_proxies == nullptr || context_.trusted_proxies->empty()
            ? client_address_
            : context_.trusted_proxies->ClientOf(peer_, request.Header("x-forwarded-for"));
    if (options_.public_base_url.empty()) {
      auto host = request.Header("host");
      request.base_url = kTls ? "https://" : "http://";
      request.base_url += host && IsValidHost(*host) ? *host : context_.local_authority;
    }
    current_.keep_alive = message.keep_alive();
    current_.http10 = message.version() < 11;
    current_.head = request.method == Method::kHead;
    if (!current_.keep_alive) read_closed_ = true;
    queue_.push_back(std::move(current_));
    current_ = Pending{};
    MaybeDispatch();
    DoRead();
  }

  static Error TooLarge(size_t limit) {
    return MakeError(ErrorCode::kTooLarge,
                     "request body exceeds the limit of " + std::to_string(limit) + " bytes");
  }

  void OnReadError(beast::error_code ec) {
    read_closed_ = true;
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == asio::ssl::error::stream_truncated || ec == asio::error::eof) {
      MaybeFinish();  // the client is done sending; still answer what it sent
    } else if (ec == bhttp::error::header_limit) {
      Error error(ErrorCode::kTooLarge, "request header exceeds the limit of " +
                                            std::to_string(options_.limits.max_header_bytes) +
                                            " bytes");
      Refuse(error, context_.dispatcher->ForUnknownMethod().slot, "-", {}, {}, 431);
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      Refuse(MakeError(ErrorCode::kInvalid, "malformed HTTP request"),
             context_.dispatcher->ForUnknownMethod().slot, "-", {});
    } else {
      Close();  // transport failure or timeout: nobody to answer
    }
  }

  // Queues an error answer for a request that will not be dispatched; the connection closes
  // after it, since the rest of that request was not read.
  void Refuse(const Error& error, size_t slot, std::string_view method_name,
              std::string_view client_id, std::string_view allow = {}, int status = 0) {
    Pending pending;
    pending.received = current_.received == Clock::time_point() ? Clock::now() : current_.received;
    pending.keep_alive = false;
    pending.head = current_.request.method == Method::kHead;
    Response response =
        context_.dispatcher->Reject(error, slot, method_name, client_id, pending.received, status);
    if (!allow.empty()) response.headers.emplace_back("Allow", std::string(allow));
    pending.ready = std::move(response);
    queue_.push_back(std::move(pending));
    current_ = Pending{};
    read_closed_ = true;
    MaybeDispatch();
  }

  // ---- handling ----

  void MaybeDispatch() {
    if (handling_ || queue_.empty() || closed_ || lingering_) return;
    Pending item = std::move(queue_.front());
    queue_.pop_front();
    if (item.ready) {
      Respond(std::move(*item.ready), item.keep_alive, item.head, item.http10);
      return;
    }
    handling_ = true;
    UpdateDeadline();
    // Handlers block on the database: they run on the worker pool, and the answer comes
    // back to this connection's strand.
    asio::post(
        *context_.workers, [self = this->shared_from_this(), item = std::move(item)]() mutable {
          // The worker does not wait for the audit commit of a read: the dispatcher hands the
          // response back once it is done, from the audit writer's thread.
          HeldResponses* waiting = self->context_.held;
          waiting->Add();
          auto respond = [self, waiting, keep = item.keep_alive, head = item.head,
                          http10 = item.http10](Response response) mutable {
            asio::any_io_executor executor = self->executor_;
            // Everything moves into the posted call: once Done() returns, the server may go away.
            asio::post(executor, [self = std::move(self), response = std::move(response), keep,
                                  head, http10]() mutable {
              self->handling_ = false;
              self->Respond(std::move(response), keep, head, http10);
            });
            waiting->Done();
          };
          // Dispatch catches what a handler throws and answers 500.
          self->context_.dispatcher->HandleAsync(item.request, item.received, std::move(respond));
        });
  }

  void Respond(Response response, bool keep_alive, bool head, bool http10) {
    if (closed_ || lingering_) return;
    bool close = !keep_alive || (read_closed_ && queue_.empty() && !reading_body_);
    Outgoing out;
    out.close = close;
    out.head.reserve(256);
    AppendResponseHead(response, close, kTls, out.head, http10);
    if (!head && StatusAllowsBody(response.status)) out.body = std::move(response.body);
    writes_.push_back(std::move(out));
    DoWrite();
    MaybeDispatch();
    DoRead();
    UpdateDeadline();
  }

  // ---- writing ----

  void DoWrite() {
    if (writing_ || writes_.empty() || closed_ || lingering_) return;
    writing_ = true;
    wait_ = Wait::kNone;  // each response gets its own request_timeout
    UpdateDeadline();
    Outgoing& out = writes_.front();
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out.head), asio::buffer(out.body)};
    asio::async_write(
        stream_, buffers,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      Close();
      return;
    }
    bool close = writes_.front().close;
    writes_.pop_front();
    if (close) {
      read_closed_ = true;
      queue_.clear();
      GracefulClose();
      return;
    }
    DoWrite();
    DoRead();
    UpdateDeadline();
    MaybeFinish();
  }

  // ---- closing ----

  void OnShutdown() {
    if (closed_ || lingering_) return;
    shutting_down_ = true;
    read_closed_ = true;
    // A request whose body is arriving is in flight: let it finish. A connection waiting for
    // its next request is idle: close it now.
    if (!reading_body_) MaybeFinish();
  }

  // Everything owed has been written and no more will be read: close.
  void MaybeFinish() {
    if (closed_ || lingering_) return;
    if (read_closed_ && !reading_body_ && !handling_ && queue_.empty() && !writing_ &&
        writes_.empty()) {
      Close();
    }
  }

  void GracefulClose() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    UpdateDeadline();
    beast::error_code ec;
    if constexpr (kTls) {
      if (reading_) {
        Close();
        return;
      }
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Close(); });
    } else {
      Socket().shutdown(tcp::socket::shutdown_send, ec);
      if (!reading_) Drain();  // else the pending read drains (OnHeader/OnBody)
    }
  }

  void Drain() {
    if (closed_) return;
    if constexpr (kTls) {
      Close();
    } else {
      if (!drain_buffer_) drain_buffer_ = std::make_unique<std::array<char, 4096>>();
      reading_ = true;
      Socket().async_read_some(asio::buffer(*drain_buffer_),
                               [self = this->shared_from_this()](beast::error_code ec, size_t) {
                                 self->reading_ = false;
                                 if (ec) {
                                   self->Close();
                                 } else {
                                   self->Drain();
                                 }
                               });
    }
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Socket().close(ec);
    timer_.cancel();
  }

  Stream stream_;
  const SessionContext& context_;
  const ServerOptions& options_;
  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  boost::asio::ip::address peer_;
  std::string client_address_;
  std::string cert_subject_;

  Pending current_;  // the request being read
  Dispatcher::HeaderInfo current_slot_{0, 0};
  std::deque<Pending> queue_;    // read, not yet handed to a worker
  std::deque<Outgoing> writes_;  // answered, not yet written
  std::unique_ptr<std::array<char, 4096>> drain_buffer_;

  Wait wait_ = Wait::kNone;
  Clock::time_point wait_since_;
  Clock::time_point deadline_;

  bool handshaken_ = false;
  bool reading_ = false;
  bool reading_body_ = false;
  bool handling_ = false;
  bool writing_ = false;
  bool read_closed_ = false;  // no further request will be read
  bool shutting_down_ = false;
  bool lingering_ = false;
  bool closed_ = false;
};

}  // namespace

void HeldResponses::Add() {
  std::lock_guard lock(mu_);
  ++count_;
}

void HeldResponses::Done() {
  // Notified under the lock: the waiter may destroy this object as soon as it sees zero.
  std::lock_guard lock(mu_);
  if (--count_ == 0) cv_.notify_all();
}

void HeldResponses::WaitNone() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return count_ == 0; });
}

void StartSession(tcp::socket socket, const SessionContext& context) {
  auto executor = socket.get_executor();
  if (context.tls != nullptr) {
    auto session = std::make_shared<Session<TlsStream>>(std::move(socket), context);
    asio::dispatch(executor, [session] { session->Start(); });
  } else {
    auto session = std::make_shared<Session<tcp::socket>>(std::move(socket), context);
    asio::dispatch(executor, [session] { session->Start(); });
  }
}

}  // namespace renkei::http
