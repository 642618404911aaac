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
                                      const std::string& body, std::string_view content_type) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(status), 11};
  response.set(bhttp::field::content_type, content_type);
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

asio::awaitable<void> record_and_refuse(GatewayContext& context, tcp::socket& client,
                                        const Outcome& outcome, bool policy_denial) {
  record_outcome(context, outcome);
  co_await reply_and_close(context, client, outcome.status,
                           denial_message(outcome.name, outcome.reason, policy_denial));
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
