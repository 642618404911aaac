// The HTTP/1 exchange loop, written once for the three HTTP front ends: the proxy
// (http_forward.cpp: explicit and transparent port 80), --ssl-bump sessions (intercept.cpp)
// and the API proxy (api_proxy.cpp). The loop reads and checks each request head, lets the
// front end decide and send the request, then relays the origin's answer: interim (1xx)
// responses until the final one, a 101 as the front end allows, keep-alive on both sides,
// a truncated TLS body where that is the origin's way to end one. One record per request.
//
// A front end is a small policy class (a template parameter: no virtual call per request):
//   Body                     the request body type (Beast: buffer_body, or string_body)
//   client(), tracked(), buffer(), chunk(), context(), new_attempt(): ClientSide below
//   send(parser, refusal, attempt) -> awaitable<Sent>
//                            decides (the verdict), refuses or answers itself, or connects
//                            (reusing its origin connection) and forwards the request
//   origin(), origin_buffer(), origin_label(), drop_origin(); response(): ClientSide
//   refuse(attempt)          records and answers a failure (status and reason set), closes
//   switching(parser, attempt) -> awaitable<bool>
//                            a 101: true when the front end took it over (and recorded)
//   body_observer()          what sees the final response's body as it is relayed
//                            (http_relay.h's forward_message; ClientSide: nothing)
//   exchanged(attempt)       a request was relayed whole (before its record)
//   relay_ended(attempt)     the relay of a response ended early (before its record)
//   finish() -> awaitable    the client's last request was answered: end the connection
#pragma once

#include <boost/asio/ssl/error.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "proxy/access_record.h"
#include "proxy/http_relay.h"

namespace awf::proxy {

// What the front end did with a request.
struct Sent {
  enum class Step { Relay, Next, Close } step = Step::Close;
  bool head_request = false;       // the answer has no body
  bool client_keep_alive = false;  // the client asked to keep the connection
};

// The client's side of a front end: what the loop reads from and answers to. Front ends
// derive from it (no virtual functions: the loop is a template over the front end).
template <class ClientStream>
class ClientSide {
 public:
  ClientSide(GatewayContext& context, TrackedSocket& tracked, ClientStream& client, Attempt base)
      : context_(context), tracked_(tracked), client_(client), base_(std::move(base)) {}

  GatewayContext& context() { return context_; }
  ClientStream& client() { return client_; }
  TrackedSocket& tracked() { return tracked_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }
  std::vector<char>& chunk() { return chunk_; }
  Attempt new_attempt() const { return base_; }
  IgnoreBody body_observer() { return {}; }
  void exchanged(Attempt&) {}
  void relay_ended(Attempt&) {}
  // The origin's response head being relayed (a front end may read the first one itself).
  std::optional<ResponseParser>& response() { return response_; }

 protected:
  GatewayContext& context_;
  TrackedSocket& tracked_;
  ClientStream& client_;
  const Attempt base_;
  boost::beast::flat_buffer buffer_;
  std::vector<char> chunk_;
  std::optional<ResponseParser> response_;
};

// A client on a plain socket (the proxy, the API proxy): failures are answered in plain text
// and the connection closed; after the last answer, the sending side is shut down.
class SocketClientSide : public ClientSide<tcp::socket> {
 public:
  using ClientSide::ClientSide;

  boost::asio::awaitable<void> refuse(Attempt& attempt) {
    record(context_, attempt);
    co_await reply_and_close(context_, client_, attempt.status, plain_refusal_text(attempt.reason));
  }

  boost::asio::awaitable<void> finish() {
    boost::system::error_code ignored;
    client_.shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
};

namespace detail {

enum class ResponseEnd {
  KeepGoing,  // answered; the client's next request may follow
  Last,       // answered; the connection ends after the record
  Handled,    // refused, relayed in part or taken over: recorded already, the connection ends
};

// Reads the next response head unless the front end read it already. False: refused.
template <class FrontEnd>
boost::asio::awaitable<bool> next_response_head(FrontEnd& front, Sent& sent, Attempt& attempt) {
  if (front.response()) co_return true;
  const auto error = co_await read_response_head(front.origin(), front.origin_buffer(),
                                                 front.response(), sent.head_request);
  if (!error) co_return true;
  attempt.status = 502;
  attempt.reason = "no valid response from " + front.origin_label() + ": " + error.message();
  co_await front.refuse(attempt);
  co_return false;
}

// Relays the origin's answer to one request: interim responses, then the final one.
template <class FrontEnd>
boost::asio::awaitable<ResponseEnd> relay_response(FrontEnd& front, Sent& sent, Attempt& attempt) {
  for (;;) {
    if (!co_await next_response_head(front, sent, attempt)) co_return ResponseEnd::Handled;
    ResponseParser& parser = *front.response();
    auto& response = parser.get();
    const int status = response.result_int();
    if (status == 101 && co_await front.switching(parser, attempt)) {
      co_return ResponseEnd::Handled;
    }
    const bool interim = status >= 100 && status < 200;
    const bool origin_reusable = response.keep_alive() && !parser.need_eof();
    strip_hop_by_hop(response);
    const bool keep_going = sent.client_keep_alive && !parser.need_eof();
    if (!interim) response.keep_alive(keep_going);
    if (auto error =
            co_await forward_message(front.origin(), front.origin_buffer(), parser, front.client(),
                                     front.chunk(), attempt.counts.down, front.body_observer())) {
      // A TLS origin that ends a close-delimited body without close_notify is common.
      if (error != boost::asio::ssl::error::stream_truncated || !parser.need_eof()) {
        attempt.status = status;
        attempt.reason += "; relay ended early: " + error.message();
        front.relay_ended(attempt);
        record(front.context(), attempt);
        co_return ResponseEnd::Handled;
      }
    }
    front.response().reset();
    if (interim) continue;
    attempt.status = status;
    if (!origin_reusable) front.drop_origin();
    co_return keep_going ? ResponseEnd::KeepGoing : ResponseEnd::Last;
  }
}

}  // namespace detail

template <class FrontEnd>
boost::asio::awaitable<void> serve_exchanges(FrontEnd& front) {
  namespace bhttp = boost::beast::http;
  for (;;) {
    Attempt attempt = front.new_attempt();
    // The whole head is read and checked strictly before Beast parses it.
    const HeadRead head =
        co_await read_request_head(front.tracked(), front.client(), front.buffer());
    // A closed or idle kept-alive connection ends quietly.
    if (head.status == HeadRead::Status::Closed ||
        (head.status == HeadRead::Status::TimedOut && front.buffer().size() == 0)) {
      co_return;
    }
    // No traffic without a record (audit/log_writer.h), on a kept-alive connection too: the
    // connection ends, and the refusal is counted for the exit message.
    if (!front.context().log.recording()) {
      front.context().log.note_refused_unrecorded();
      co_return;
    }
    attempt.started = std::chrono::steady_clock::now();
    bhttp::request_parser<typename FrontEnd::Body> parser;
    parser.header_limit(kHeaderLimit);
    // Body limits, where there are any, apply once the head is in (the front end's send).
    parser.body_limit(boost::none);
    std::optional<Refusal> refusal = take_request_head(head, front.buffer(), parser);
    front.response().reset();
    Sent sent = co_await front.send(parser, std::move(refusal), attempt);
    if (sent.step == Sent::Step::Next) continue;
    if (sent.step == Sent::Step::Close) co_return;
    const detail::ResponseEnd end = co_await detail::relay_response(front, sent, attempt);
    if (end == detail::ResponseEnd::Handled) co_return;
    front.exchanged(attempt);
    record(front.context(), attempt);
    if (end == detail::ResponseEnd::Last) {
      co_await front.finish();
      co_return;
    }
  }
}

}  // namespace awf::proxy
