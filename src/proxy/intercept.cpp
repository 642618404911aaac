// --ssl-bump: TLS interception for the allowed names that --allow-urls patterns mention. The
// client's TLS ends at awf with a leaf certificate the run's CA minted for the name; awf opens
// its own verified TLS to the origin. In between, every request is decided on its own: the
// Host must be the name the session is for (domain fronting gets 421), and a URL pattern must
// match the canonical path (else 403). What the origin gets is exactly what was checked.
#include "proxy/intercept.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>

#include "policy/domain_list.h"
#include "policy/url_pattern.h"
#include "proxy/bump_ca.h"
#include "proxy/client_tls.h"
#include "proxy/http_exchange.h"
#include "proxy/http_head.h"
#include "proxy/upstream_connect.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;

namespace awf::proxy {

class ServerTls {
 public:
  mutable ssl::context context{ssl::context::tls_server};
};

namespace {

// Offers the client http/1.1 only: the relay inside the session speaks HTTP/1.1.
int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
                  const unsigned char* offered, unsigned int offered_length, void*) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof kHttp11, offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// Where a connection keeps the name it is for (Asio owns the SSL object's app data).
int expected_name_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// A CONNECT names the host before TLS: a ClientHello for another name is refused during the
// handshake, before awf shows any certificate.
int check_server_name(SSL* ssl, int* alert, void*) {
  const auto* expected =
      static_cast<const std::string*>(SSL_get_ex_data(ssl, expected_name_index()));
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (expected == nullptr || sni == nullptr || policy::normalize_host(sni) == *expected) {
    return SSL_TLSEXT_ERR_OK;
  }
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

std::shared_ptr<const ServerTls> make_server_tls(BumpAuthority& authority) {
  auto tls = std::make_shared<ServerTls>();
  SSL_CTX* native = tls->context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (SSL_CTX_use_PrivateKey(native, authority.leaf_key()) != 1) {
    throw std::runtime_error("--ssl-bump: OpenSSL refused the leaf key");
  }
  SSL_CTX_set_alpn_select_cb(native, select_http11, nullptr);
  SSL_CTX_set_tlsext_servername_callback(native, check_server_name);
  return tls;
}

namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

// The client's socket, whose first bytes awf already read (the ClientHello it inspected, or
// what followed a CONNECT): reads return those bytes first. The TLS server runs on top.
class ReplayStream {
 public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  ReplayStream(tcp::socket& socket, std::vector<std::uint8_t> pending)
      : socket_(&socket), pending_(std::move(pending)) {}

  executor_type get_executor() { return socket_->get_executor(); }
  lowest_layer_type& lowest_layer() { return socket_->lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return socket_->lowest_layer(); }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& into) {
          if (offset_ == pending_.size()) {
            socket_->async_read_some(into, std::move(handler));
            return;
          }
          const std::size_t n = asio::buffer_copy(
              into, asio::buffer(pending_.data() + offset_, pending_.size() - offset_));
          offset_ += n;
          if (offset_ == pending_.size()) {
            pending_.clear();
            pending_.shrink_to_fit();
            offset_ = 0;
          }
          auto executor = asio::get_associated_executor(handler, socket_->get_executor());
          asio::post(executor, [handler = std::move(handler), n]() mutable {
            std::move(handler)(boost::system::error_code{}, n);
          });
        },
        token, buffers);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket_->async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  tcp::socket* socket_;
  std::vector<std::uint8_t> pending_;
  std::size_t offset_ = 0;
};

using ClientSession = ssl::stream<ReplayStream>;

// A short answer inside the client's TLS session, after which the session ends.
asio::awaitable<void> refuse_in_session(ClientSession& session, int status,
                                        const std::string& body) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(status), 11};
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  response.set(bhttp::field::connection, "close");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = body;
  response.prepare_payload();
  co_await bhttp::async_write(session, response, asio::as_tuple(asio::use_awaitable));
  co_await session.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

// Why a client ended the handshake, when it did so by rejecting awf's certificate: the
// alerts a client sends for an untrusted issuer (pinning, or a trust store of its own).
bool rejected_certificate(const boost::system::error_code& error) {
  if (error.category() != asio::error::get_ssl_category()) return false;
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(error.value()));
  return reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN ||
         reason == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE ||
         reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED;
}

// A request inside the session, decided before anything of it reaches the origin (the
// attempt's method, Host and URL are set here, redacted for a --enable-dlp denial).
std::optional<Refusal> check_request(const GatewayContext& context, const std::string& host,
                                     const bhttp::request<bhttp::buffer_body>& request,
                                     const std::optional<std::string>& path, Attempt& attempt) {
  attempt.method = std::string(request.method_string());
  attempt.user_agent = std::string(request[bhttp::field::user_agent]);
  attempt.host_field = std::string(request[bhttp::field::host]);
  const std::string target(request.target());
  InterceptedRequest question;
  question.session_name = host;
  question.url = std::move(attempt.url);  // back in the attempt from the verdict below
  question.host_field = std::move(attempt.host_field);
  question.target = target;
  question.path = &path;
  for (const auto& field : request) {
    question.headers.emplace_back(
        std::string_view(field.name_string().data(), field.name_string().size()),
        std::string_view(field.value().data(), field.value().size()));
  }
  Verdict verdict = decide_intercepted(verdict_options(context), std::move(question));
  attempt.url = std::move(verdict.url);
  attempt.host_field = std::move(verdict.host_field);
  if (verdict.allowed()) return std::nullopt;
  return Refusal{verdict.status, verdict.reason};
}

// Ends the client's TLS handshake with awf's leaf for `host`. Returns "" or why it failed.
asio::awaitable<std::string> handshake(const BumpOptions& bump, ClientSession& session,
                                       TrackedSocket& tracked, const std::string& host) {
  SSL* native = session.native_handle();
  X509* leaf = bump.authority->leaf_for(host);
  if (SSL_use_certificate(native, leaf) != 1) co_return "awf could not use its certificate";
  SSL_set_ex_data(native, expected_name_index(), const_cast<std::string*>(&host));
  tracked.set_deadline(kHandshakeTimeout);
  auto [error] = co_await session.async_handshake(ssl::stream_base::server,
                                                  asio::as_tuple(asio::use_awaitable));
  tracked.clear_deadline();
  if (!error) co_return "";
  if (const char* sni = SSL_get_servername(native, TLSEXT_NAMETYPE_host_name);
      sni != nullptr && policy::normalize_host(sni) != host) {
    co_return "TLS SNI '" + std::string(sni) + "' does not match CONNECT host '" + host + "'";
  }
  if (rejected_certificate(error)) {
    std::fprintf(stderr,
                 "awf: warning: a client in the sandbox rejected awf's certificate for %s "
                 "(it pins certificates or does not use the system trust store); "
                 "--ssl-bump cannot inspect it\n",
                 host.c_str());
    co_return "the client rejected the certificate awf presented for " + host +
        " (certificate pinning, or a trust store without the run's CA)";
  }
  co_return "TLS handshake with the client failed: " + error.message();
}

// An --ssl-bump session as an exchange front end (http_exchange.h).
class InterceptFrontEnd : public ClientSide<ClientSession> {
 public:
  using Body = bhttp::buffer_body;
  using Parser = bhttp::request_parser<Body>;

  InterceptFrontEnd(GatewayContext& context, TrackedSocket& tracked, ClientSession& session,
                    const std::string& host, std::uint16_t port, const Attempt& base,
                    RelayCounts& counts)
      : ClientSide(context, tracked, session, base),
        host_(host),
        port_(port),
        origin_authority_(awf::http::format_authority(host, port, 443)),
        counts_(counts) {}

  ssl::stream<tcp::socket>& origin() { return *origin_.stream; }
  beast::flat_buffer& origin_buffer() { return origin_.buffer; }
  std::string origin_label() const { return "the origin"; }
  void drop_origin() { origin_.reset(); }

  // Each request gets its own record (kind "intercept") from the session's.
  Attempt new_attempt() const {
    Attempt attempt = base_;
    attempt.kind = "intercept";
    attempt.method.clear();
    attempt.counts = {};
    attempt.destination.reset();
    attempt.started.reset();
    return attempt;
  }

  // The CONNECT's (or TLS connection's) record sums up the requests of its session.
  void exchanged(Attempt& attempt) {
    counts_.up += attempt.counts.up;
    counts_.down += attempt.counts.down;
  }

  asio::awaitable<Sent> send(Parser& parser, std::optional<Refusal> refusal, Attempt& attempt);

  asio::awaitable<void> refuse(Attempt& attempt) {
    co_await refuse_with(attempt, plain_refusal_text(attempt.reason));
  }

  asio::awaitable<bool> switching(ResponseParser&, Attempt& attempt) {
    attempt.status = 502;
    attempt.reason = "protocol upgrades are not supported inside --ssl-bump interception";
    co_await refuse(attempt);
    co_return true;
  }

  asio::awaitable<void> finish() {
    tracked_.set_deadline(kRefusalTime);
    co_await client_.async_shutdown(asio::as_tuple(asio::use_awaitable));
  }

 private:
  // Records and answers inside the session, after which it ends.
  asio::awaitable<void> refuse_with(Attempt& attempt, const std::string& body) {
    record(context_, attempt);
    tracked_.set_deadline(kRefusalTime);
    co_await refuse_in_session(client_, attempt.status, body);
  }
  asio::awaitable<bool> reach_origin(Attempt& attempt);

  const std::string& host_;
  const std::uint16_t port_;
  const std::string origin_authority_;
  RelayCounts& counts_;
  TlsUpstream origin_;
};

asio::awaitable<bool> InterceptFrontEnd::reach_origin(Attempt& attempt) {
  if (!origin_.open()) {
    const Upstream connected =
        co_await connect_tls(context_, *context_.options.bump.client, host_, port_, origin_);
    if (connected.failed()) {
      take_connect_failure(attempt, connected);
      // (Not a conditional expression inside co_await: GCC 12 destroys its temporary twice.)
      std::string body = plain_refusal_text(attempt.url + ": " + attempt.reason);
      if (connected.denied()) body = blocked_url_text(attempt.url, attempt.reason);
      co_await refuse_with(attempt, body);
      co_return false;
    }
  }
  attempt.allowed = true;
  attempt.destination = origin_.endpoint;
  attempt.via_parent = origin_.via_parent;
  co_return true;
}

asio::awaitable<Sent> InterceptFrontEnd::send(Parser& parser, std::optional<Refusal> refusal,
                                              Attempt& attempt) {
  auto& request = parser.get();
  const std::string target(request.target());
  const auto path = policy::canonical_request_path(target);
  attempt.url = "https://" + origin_authority_ + (path ? *path : target);
  if (!refusal) refusal = check_request(context_, host_, request, path, attempt);
  if (refusal) {
    attempt.allowed = false;
    attempt.status = refusal->status;
    attempt.reason = refusal->reason;
    co_await refuse_with(attempt, blocked_url_text(attempt.url, refusal->reason));
    co_return Sent{};
  }
  attempt.reason = base_.reason + "; URL allowed (--allow-urls)";
  if (!co_await reach_origin(attempt)) co_return Sent{};
  Sent sent;
  sent.step = Sent::Step::Relay;
  sent.head_request = request.method() == bhttp::verb::head;
  sent.client_keep_alive = request.keep_alive();
  request.target(*path);
  strip_hop_by_hop(request);
  if (auto error =
          co_await forward_message(client_, buffer_, parser, origin(), chunk_, attempt.counts.up)) {
    attempt.status = 502;
    attempt.reason += "; sending the request to the origin failed: " + error.message();
    record(context_, attempt);
    co_return Sent{};
  }
  co_return sent;
}

}  // namespace

asio::awaitable<std::string> serve_intercepted(GatewayContext& context, TrackedSocket& tracked,
                                               tcp::socket& client,
                                               std::vector<std::uint8_t> pending,
                                               const std::string& host, std::uint16_t port,
                                               const Attempt& base, RelayCounts& counts) {
  const BumpOptions& bump = context.options.bump;
  ClientSession session(ReplayStream(client, std::move(pending)), bump.server->context);
  if (std::string failed = co_await handshake(bump, session, tracked, host); !failed.empty()) {
    co_return failed;
  }
  InterceptFrontEnd front(context, tracked, session, host, port, base, counts);
  co_await serve_exchanges(front);
  co_return "";
}

}  // namespace awf::proxy
