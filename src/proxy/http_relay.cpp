#include "proxy/http_relay.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/http_head.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace boost::asio::experimental::awaitable_operators;

namespace awf::proxy {
namespace {

constexpr auto kDrainTime = std::chrono::milliseconds(500);
constexpr std::size_t kDrainLimit = 64 * 1024;

}  // namespace

asio::awaitable<void> reply_and_close(GatewayContext& context, tcp::socket& client, int status,
                                      const std::string& body, std::string_view content_type,
                                      const ExtraHeaders& headers) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(status), 11};
  response.set(bhttp::field::content_type, content_type);
  for (const auto& [name, value] : headers) response.set(name, value);
  response.set(bhttp::field::connection, "close");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = body;
  response.prepare_payload();
  auto [error, n] =
      co_await bhttp::async_write(client, response, asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  if (!error) {
    client.shutdown(tcp::socket::shutdown_send, ignored);
    asio::steady_timer timer(context.io);
    timer.expires_after(kDrainTime);
    std::uint8_t sink[4096];
    std::size_t drained = 0;
    while (drained < kDrainLimit) {
      auto result = co_await (
          client.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable)) ||
          timer.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (result.index() == 1 || std::get<0>(std::get<0>(result))) break;
      drained += std::get<1>(std::get<0>(result));
    }
  }
  client.close(ignored);
}

asio::awaitable<void> refuse_head(GatewayContext& context, TrackedSocket& tracked,
                                  tcp::socket& client, Attempt& attempt, const Refusal& refusal) {
  attempt.status = refusal.status;
  attempt.reason = refusal.reason;
  record(context, attempt);
  // The answer and the drain after it are bounded in time as well, even for a client that
  // reads nothing (a full send buffer would hold the write forever).
  tracked.set_deadline(kRefusalTime);
  co_await reply_and_close(context, client, refusal.status, plain_refusal_text(refusal.reason));
}

asio::awaitable<void> refuse_verdict(GatewayContext& context, tcp::socket& client,
                                     const Attempt& attempt, const Verdict& verdict) {
  record(context, attempt);
  const std::string text =
      verdict.denial == Denial::Unreadable
          ? plain_refusal_text(attempt.reason)
          : blocked_text(attempt.name, attempt.reason, verdict.denial == Denial::Policy);
  co_await reply_and_close(context, client, attempt.status, text);
}

asio::awaitable<void> refuse_connect_failure(GatewayContext& context, tcp::socket& client,
                                             const Attempt& attempt, const Upstream& upstream) {
  record(context, attempt);
  const std::string text = upstream.denied() ? blocked_text(attempt.name, attempt.reason, false)
                                             : plain_refusal_text(attempt.reason);
  co_await reply_and_close(context, client, attempt.status, text);
}

void strip_hop_by_hop(bhttp::fields& fields) {
  const std::string connection(fields[bhttp::field::connection]);
  std::vector<std::string> names;
  for (const auto& field : fields) {
    if (awf::http::is_hop_by_hop(field.name_string(), connection)) {
      names.emplace_back(field.name_string());
    }
  }
  for (const std::string& name : names) fields.erase(name);
}

}  // namespace awf::proxy
