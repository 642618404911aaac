// --ssl-bump: TLS interception for the allowed names that --allow-urls patterns mention. The
// client's TLS ends at awf with a leaf certificate the run's CA minted for the name; awf opens
// its own verified TLS to the origin. In between, every request is decided on its own: the
// Host must be the name the session is for (domain fronting gets 421), and a URL pattern must
// match the canonical path (else 403). What the origin gets is exactly what was checked.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>

#include "policy/credential_scan.h"
#include "policy/domain_list.h"
#include "policy/url_pattern.h"
#include "proxy/bump_ca.h"
#include "proxy/client_tls.h"
#include "proxy/http_head.h"
#include "proxy/http_relay.h"

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

bool intercepts(const GatewayContext& context, const std::string& name, std::uint16_t port) {
  const BumpOptions& bump = context.options.bump;
  return bump.enabled && port == 443 && policy::url_patterns_mention(bump.url_patterns, name);
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

// The first credential-shaped string in the URL or any header value, as a refusal reason.
std::string dlp_in_request(const GatewayContext& context, const std::string& url,
                           const bhttp::fields& fields) {
  if (std::string refusal = dlp_refusal(context, url); !refusal.empty()) return refusal;
  for (const auto& field : fields) {
    if (std::string refusal = dlp_refusal(context, field.value()); !refusal.empty()) {
      return refusal + " (in the " + std::string(field.name_string()) + " header)";
    }
  }
  return "";
}

}  // namespace

asio::awaitable<std::string> serve_intercepted(GatewayContext& context,
                                               RegisteredSocket& registered, tcp::socket& client,
                                               std::vector<std::uint8_t> pending,
                                               const std::string& host, std::uint16_t port,
                                               const Outcome& base, RelayCounts& counts) {
  const BumpOptions& bump = context.options.bump;
  ClientSession session(ReplayStream(client, std::move(pending)), bump.server->context);
  SSL* native = session.native_handle();
  X509* leaf = bump.authority->leaf_for(host);
  if (SSL_use_certificate(native, leaf) != 1) co_return "awf could not use its certificate";
  SSL_set_ex_data(native, expected_name_index(), const_cast<std::string*>(&host));
  registered.set_deadline(kHandshakeTimeout);
  if (auto [error] = co_await session.async_handshake(ssl::stream_base::server,
                                                      asio::as_tuple(asio::use_awaitable));
      error) {
    registered.clear_deadline();
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
  registered.clear_deadline();
  beast::flat_buffer buffer;
  std::vector<char> chunk;
  TlsUpstream origin;
  const std::string origin_authority = awf::http::format_authority(host, port, 443);
  for (;;) {
    Outcome outcome = base;
    outcome.kind = "intercept";
    outcome.method.clear();
    outcome.counts = {};
    outcome.destination.reset();
    outcome.started.reset();
    const HeadRead head = co_await read_request_head(registered, session, buffer);
    if (head.status == HeadRead::Status::Closed ||
        (head.status == HeadRead::Status::TimedOut && buffer.size() == 0)) {
      co_return "";
    }
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    std::optional<std::string> refusal;
    int status = 400;
    outcome.started = std::chrono::steady_clock::now();
    if (auto head_refusal = take_request_head(head, buffer, parser)) {
      refusal = std::move(head_refusal->reason);
      status = head_refusal->status;
    }
    auto& request = parser.get();
    const std::string target(request.target());
    const auto path = policy::canonical_request_path(target);
    outcome.url = "https://" + origin_authority + (path ? *path : target);
    if (!refusal) {
      outcome.method = std::string(request.method_string());
      outcome.user_agent = std::string(request[bhttp::field::user_agent]);
      outcome.host_field = std::string(request[bhttp::field::host]);
      const auto authority = awf::http::parse_authority(outcome.host_field, 443);
      // --enable-dlp first: every record below would hold the URL.
      if (std::string dlp = dlp_in_request(context, outcome.url, request); !dlp.empty()) {
        outcome.url = policy::redact_credentials(outcome.url);
        outcome.host_field = policy::redact_credentials(outcome.host_field);
        status = 403;
        refusal = std::move(dlp);
      } else if (!authority || policy::normalize_host(authority->host) != host) {
        // Domain fronting: a session opened for an allowed name asking for another one.
        status = 421;
        refusal = "Host '" + outcome.host_field + "' does not match the TLS name '" + host +
                  "' (--ssl-bump)";
      } else if (!path) {
        refusal = "request target '" + target +
                  "' is not a plain path (encoded '/' or '\\', '#', or not origin-form)";
      } else if (!std::any_of(bump.url_patterns.begin(), bump.url_patterns.end(),
                              [&](const policy::UrlPattern& pattern) {
                                return policy::url_pattern_matches(pattern, host, *path);
                              })) {
        status = 403;
        refusal = "no --allow-urls pattern matches " + outcome.url;
      }
    }
    if (refusal) {
      outcome.allowed = false;
      outcome.status = status;
      outcome.reason = *refusal;
      record_outcome(context, outcome);
      registered.set_deadline(kRefusalTime);
      co_await refuse_in_session(session, status,
                                 "awf: blocked " + outcome.url + ": " + *refusal + "\n");
      co_return "";
    }
    outcome.reason = base.reason + "; URL allowed (--allow-urls)";

    if (!origin.open()) {
      const Upstream connected = co_await connect_tls(context, *bump.client, host, port, origin);
      if (connected.status != 0) {
        outcome.allowed = connected.status != 403;
        outcome.status = connected.status;
        outcome.reason = connected.reason;
        record_outcome(context, outcome);
        registered.set_deadline(kRefusalTime);
        co_await refuse_in_session(session, connected.status,
                                   "awf: " + outcome.url + ": " + connected.reason + "\n");
        co_return "";
      }
    }
    outcome.allowed = true;
    outcome.destination = origin.endpoint;
    outcome.via_parent = origin.via_parent;
    const bool client_keep_alive = request.keep_alive();
    const bool head_request = request.method() == bhttp::verb::head;
    request.target(*path);
    strip_hop_by_hop(request);
    if (auto error = co_await forward_message(session, buffer, parser, *origin.stream, chunk,
                                              outcome.counts.up)) {
      outcome.status = 502;
      outcome.reason += "; sending the request to the origin failed: " + error.message();
      record_outcome(context, outcome);
      co_return "";
    }
    bool keep_going = false;
    for (;;) {
      std::optional<ResponseParser> response_parser;
      if (const auto header_error = co_await read_response_head(*origin.stream, origin.buffer,
                                                                response_parser, head_request)) {
        outcome.status = 502;
        outcome.reason = "no valid response from the origin: " + header_error.message();
        record_outcome(context, outcome);
        registered.set_deadline(kRefusalTime);
        co_await refuse_in_session(session, 502, "awf: " + outcome.reason + "\n");
        co_return "";
      }
      auto& response = response_parser->get();
      const int response_status = response.result_int();
      if (response_status == 101) {
        outcome.status = 502;
        outcome.reason = "protocol upgrades are not supported inside --ssl-bump interception";
        record_outcome(context, outcome);
        registered.set_deadline(kRefusalTime);
        co_await refuse_in_session(session, 502, "awf: " + outcome.reason + "\n");
        co_return "";
      }
      const bool interim = response_status >= 100 && response_status < 200;
      const bool origin_reusable = response.keep_alive() && !response_parser->need_eof();
      strip_hop_by_hop(response);
      keep_going = client_keep_alive && !response_parser->need_eof();
      if (!interim) response.keep_alive(keep_going);
      if (auto error = co_await forward_message(*origin.stream, origin.buffer, *response_parser,
                                                session, chunk, outcome.counts.down)) {
        if (error != ssl::error::stream_truncated || !response_parser->need_eof()) {
          outcome.status = response_status;
          outcome.reason += "; relay ended early: " + error.message();
          record_outcome(context, outcome);
          co_return "";
        }
      }
      if (interim) continue;
      outcome.status = response_status;
      if (!origin_reusable) origin.reset();
      break;
    }
    counts.up += outcome.counts.up;
    counts.down += outcome.counts.down;
    record_outcome(context, outcome);
    if (!keep_going) {
      registered.set_deadline(kRefusalTime);
      co_await session.async_shutdown(asio::as_tuple(asio::use_awaitable));
      co_return "";
    }
  }
}

}  // namespace awf::proxy
