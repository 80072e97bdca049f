// One connection: its requests read (header, then body to memory or a file), handed
// to the application, and answered, with the timeouts and limits of ServerOptions.
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "http/server_impl.h"

namespace reftrack::http {

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::patch:
      return Method::kPatch;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

// `text` for a message, cut short: a request line may be 16 KiB long.
std::string Clip(std::string_view text) {
  constexpr size_t kMax = 100;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

}  // namespace

namespace {

// One connection: reads a header, asks the application what to do with the body,
// reads it, hands the request over, writes the answer, and reads the next one.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Server::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  ~Connection() { RemoveBodyFile(); }

  void Start() { ReadHeader(); }

 private:
  void ReadHeader() {
    request_ = Request();
    header_parser_.emplace();
    header_parser_->header_limit(kHeaderLimit);
    header_parser_->body_limit(std::numeric_limits<uint64_t>::max());
    stream_.expires_after(std::chrono::seconds(server_.options.header_timeout_s));
    bhttp::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      // A client that closed between requests, or a timeout: nothing to answer. A
      // header too large or malformed gets a 400 or 431 before closing.
      if (ec == bhttp::error::header_limit)
        return SendEarly(Problem(431, "request header too large"));
      if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
          ec != asio::error::eof && ec != asio::error::connection_reset &&
          ec != asio::error::operation_aborted) {
        return SendEarly(Problem(400, fmt::format("malformed request: {}", ec.message())));
      }
      return Close();
    }
    const auto& head = header_parser_->get();
    // A Transfer-Encoding whose last coding is not chunked leaves the body's length
    // unknown (RFC 9112 §6.3): Beast would read no body, and take the body's bytes for
    // the next request, one a proxy in front never saw.
    if (head.find(bhttp::field::transfer_encoding) != head.end() && !header_parser_->chunked()) {
      return SendEarly(Problem(400, "the Transfer-Encoding must end with chunked"));
    }
    // With two, which key a proxy in front checked and which one this server would
    // take may differ.
    if (head.count(bhttp::field::authorization) > 1) {
      return SendEarly(Problem(400, "the request has more than one Authorization header"));
    }
    request_.method = ToMethod(head.method());
    const std::string_view method_text(head.method_string().data(), head.method_string().size());
    const std::string_view target(head.target().data(), head.target().size());
    // Not one of the methods of any route: RFC 9110 §15.6.2's "not implemented".
    if (request_.method == Method::kOther) {
      return SendEarly(Problem(
          501, fmt::format("the method {} is not implemented here; the API takes GET, POST, "
                           "PATCH, PUT and DELETE",
                           Clip(method_text))));
    }
    auto origin = OriginForm(target);
    if (!origin) {
      return SendEarly(Problem(
          400, fmt::format("the request target \"{}\" is not a path: send it in origin form, "
                           "e.g. {} /api/v1/referrals",
                           Clip(target), Clip(method_text))));
    }
    request_.target = std::move(*origin);
    request_.received = std::chrono::steady_clock::now();
    body_bytes_ = 0;
    if (auto it = head.find(bhttp::field::content_type); it != head.end()) {
      request_.content_type = std::string(it->value());
    }
    if (auto it = head.find(bhttp::field::authorization); it != head.end()) {
      request_.authorization = std::string(it->value());
    }
    if (auto it = head.find(bhttp::field::cookie); it != head.end()) {
      request_.cookie = std::string(it->value());
    }
    if (auto it = head.find("X-CSRF-Token"); it != head.end()) {
      request_.csrf_token = std::string(it->value());
    }
    if (auto length = header_parser_->content_length()) request_.content_length = *length;
    keep_alive_ = head.keep_alive();
    if (remote_.empty()) {
      beast::error_code peer_ec;
      auto peer = stream_.socket().remote_endpoint(peer_ec);
      remote_ = peer_ec ? "?" : peer.address().to_string();
    }
    request_.remote = remote_;
    if (!ParseTarget(request_.target, request_.path, request_.query)) {
      return SendEarly(Problem(400, "the request's path or query is not valid percent-encoding"));
    }
    Admission admission = server_.app.Admit(request_);
    if (admission.reject) return SendEarly(std::move(*admission.reject));
    if (request_.content_length && *request_.content_length > admission.limit) {
      return SendEarly(
          Problem(413, fmt::format("the body has {} bytes; this route takes at most {}",
                                   *request_.content_length, admission.limit)));
    }
    limit_ = admission.limit;
    // In flight from here: a stop waits for the body still arriving, then the answer.
    BeginRequest();
    // A client that asked may send the body now (curl asks before an upload, and
    // otherwise waits a second).
    if (auto it = header_parser_->get().find(bhttp::field::expect);
        it != header_parser_->get().end() && beast::iequals(it->value(), "100-continue")) {
      auto interim =
          std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bool file = admission.body == BodyKind::kFile;
      return bhttp::async_write(
          stream_, *interim,
          [self = shared_from_this(), interim, file](beast::error_code ec, size_t) {
            if (ec) return self->Close();
            self->StartBody(file);
          });
    }
    StartBody(admission.body == BodyKind::kFile);
  }

  void StartBody(bool file) {
    if (file) {
      file_parser_.emplace(std::move(*header_parser_));
      file_parser_->body_limit(limit_);
      std::string dir = server_.options.temp_dir.empty()
                            ? std::filesystem::temp_directory_path().string()
                            : server_.options.temp_dir;
      std::string path = dir + "/reftrack-upload-XXXXXX";
      int fd = mkstemp(path.data());
      if (fd < 0) return SendEarly(Problem(503, "cannot create a temporary file for the upload"));
      ::close(fd);
      request_.body_file = path;
      beast::error_code open_ec;
      file_parser_->get().body().open(path.c_str(), beast::file_mode::write, open_ec);
      if (open_ec) return SendEarly(Problem(503, "cannot open a temporary file for the upload"));
      ReadBody(*file_parser_);
    } else {
      string_parser_.emplace(std::move(*header_parser_));
      string_parser_->body_limit(limit_);
      ReadBody(*string_parser_);
    }
  }

  // Reads the body a piece at a time, so that the timeout is between pieces, not for
  // all. A body must also keep up an average rate once it has had the timeout to get
  // going: a client sending a byte now and then would otherwise hold the connection
  // (and an upload's file) as long as it likes.
  template <class Parser>
  void ReadBody(Parser& parser) {
    if (parser.is_done()) return OnBody(beast::error_code());
    const auto idle = std::chrono::seconds(server_.options.body_timeout_s);
    auto deadline = std::chrono::steady_clock::now() + idle;
    if (server_.options.min_body_rate > 0) {
      // When the bytes received so far stop being enough for the rate.
      const auto earned = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(static_cast<double>(body_bytes_) /
                                        server_.options.min_body_rate));
      deadline =
          std::min(deadline,
                   request_.received + std::max<std::chrono::steady_clock::duration>(idle, earned));
    }
    stream_.expires_at(deadline);
    bhttp::async_read_some(stream_, buffer_, parser,
                           [self = shared_from_this(), &parser](beast::error_code ec, size_t n) {
                             if (ec) return self->OnBody(ec);
                             self->body_bytes_ += n;
                             self->ReadBody(parser);
                           });
  }

  void OnBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return SendEarly(
          Problem(413, fmt::format("the body is larger than this route takes ({} bytes)", limit_)));
    }
    if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension) {
      return SendEarly(
          Problem(400,
                  "the chunked body is malformed: each chunk is its size in hexadecimal digits, "
                  "CRLF, that many bytes and CRLF, and a chunk of size 0 ends the body "
                  "(RFC 9112 §7.1)"));
    }
    // A client that went away or stalled: nothing to answer. Anything else the parser
    // refused in the body (a trailer field, say) is the client's mistake, and said so.
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
        ec != bhttp::error::partial_message && ec != bhttp::error::end_of_stream) {
      return SendEarly(Problem(400, fmt::format("the body is malformed: {}", ec.message())));
    }
    if (ec) return Close();
    if (string_parser_) {
      request_.body = std::move(string_parser_->get().body());
      string_parser_.reset();
    }
    if (file_parser_) {
      file_parser_->get().body().close();
      file_parser_.reset();
    }
    stream_.expires_never();
    auto self = shared_from_this();
    // Answered at once (a read), the response is written from this strand without a
    // hop; answered from a writer thread, it is posted to the strand.
    server_.app.Handle(request_, [self](Response response) {
      asio::dispatch(
          self->stream_.get_executor(),
          [self, response = std::move(response)]() mutable { self->Send(std::move(response)); });
    });
  }

  // An answer before the body was read: the connection cannot be reused.
  void SendEarly(Response response) {
    response.close = true;
    Send(std::move(response));
  }

  void Send(Response response) {
    RemoveBodyFile();
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    res->set(bhttp::field::server, "reftrack");
    res->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    bool keep = keep_alive_ && !response.close && !server_.stopping;
    res->keep_alive(keep);
    res->prepare_payload();
    response.body.clear();
    stream_.expires_after(std::chrono::seconds(server_.options.body_timeout_s));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep, response = std::move(response)](
                           beast::error_code ec, size_t bytes) mutable {
                         self->server_.app.Completed(self->request_, response, bytes);
                         self->EndRequest();
                         if (ec || !keep) return self->Close();
                         self->ReadHeader();
                       });
  }

  void BeginRequest() {
    if (in_flight_) return;
    in_flight_ = true;
    ++server_.in_flight;
  }

  void EndRequest() {
    if (!in_flight_) return;
    in_flight_ = false;
    --server_.in_flight;
  }

  void Close() {
    EndRequest();  // a body cut off, a write failed: nothing more will be answered
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  void RemoveBodyFile() {
    if (request_.body_file.empty()) return;
    if (file_parser_) file_parser_.reset();
    std::error_code ec;
    std::filesystem::remove(request_.body_file, ec);
    request_.body_file.clear();
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> string_parser_;
  std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
  Request request_;
  std::string remote_;  // the peer's address, asked once
  uint64_t limit_ = 0;
  uint64_t body_bytes_ = 0;  // of the request being read
  bool keep_alive_ = true;
  bool in_flight_ = false;  // counted in server_.in_flight
};

}  // namespace

void StartConnection(tcp::socket socket, Server::Impl& server) {
  std::make_shared<Connection>(std::move(socket), server)->Start();
}

}  // namespace reftrack::http
