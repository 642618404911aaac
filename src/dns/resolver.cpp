#include "dns/resolver.h"

#include <ares.h>
#include <arpa/inet.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "common/error.h"
#include "dns/doh_client.h"
#include "dns/lookup.h"
#include "dns/message.h"
#include "policy/address_class.h"

namespace asio = boost::asio;

namespace awf::dns {
namespace {

constexpr int kTimeoutMs = 1500;
constexpr int kTries = 2;
constexpr std::size_t kCacheLimit = 10000;
constexpr std::chrono::seconds kMaxCacheTtl{60};

std::optional<std::string> internal_reason(const asio::ip::address& address) {
  if (address.is_v4()) {
    in_addr v4{};
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(&v4, bytes.data(), bytes.size());
    return policy::internal_address_reason(v4);
  }
  in6_addr v6{};
  const auto bytes = address.to_v6().to_bytes();
  std::memcpy(&v6, bytes.data(), bytes.size());
  return policy::internal_address_reason(v6);
}

// Registers c-ares' library state once per process.
void init_library() {
  static const int status = ares_library_init(ARES_LIB_INIT_ALL);
  if (status != ARES_SUCCESS) throw SetupError(std::string("c-ares: ") + ares_strerror(status));
}

}  // namespace

std::string dns_server_entry(std::string_view text) {
  std::string host(text);
  std::string port = "53";
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string::npos) throw std::invalid_argument("invalid DNS server '" + host + "'");
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') throw std::invalid_argument("invalid DNS server '" + host + "'");
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    port = host.substr(host.find(':') + 1);
    host = host.substr(0, host.find(':'));
  }
  in6_addr v6{};
  in_addr v4{};
  const bool is_v4 = inet_pton(AF_INET, host.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && inet_pton(AF_INET6, host.c_str(), &v6) == 1;
  const bool port_ok = !port.empty() && port.size() <= 5 &&
                       port.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoul(port) >= 1 && std::stoul(port) <= 65535 && port[0] != '0';
  if ((!is_v4 && !is_v6) || !port_ok) {
    throw std::invalid_argument("invalid DNS server '" + std::string(text) +
                                "': expected an IPv4 or IPv6 address");
  }
  return is_v4 ? host + ":" + port : "[" + host + "]:" + port;
}

struct Resolver::Impl : std::enable_shared_from_this<Impl> {
  struct Watcher {
    explicit Watcher(asio::io_context& io, int fd) : descriptor(io, fd) {}
    asio::posix::stream_descriptor descriptor;
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;
    bool write_pending = false;
    bool alive = true;
  };
  struct CacheEntry {
    std::vector<asio::ip::address> addresses;
    std::chrono::steady_clock::time_point expires;
  };

  asio::io_context& io;
  ares_channel channel = nullptr;
  asio::steady_timer timer;
  std::unordered_map<int, std::shared_ptr<Watcher>> watchers;
  std::mutex cache_mutex;  // the cache is read by gateway workers
  std::unordered_map<std::string, CacheEntry> cache;
  // Set once before the loop runs (send_over_https), then only read: DNS over HTTPS instead
  // of c-ares for every query.
  std::shared_ptr<DohClient> doh;
  std::string doh_text;

  explicit Impl(asio::io_context& context) : io(context), timer(context) {}

  ~Impl() { shutdown(); }

  // Stops watching c-ares' sockets and fails every pending query (their completions are
  // posted to the loop, which must still exist).
  void shutdown() {
    if (doh) doh->shutdown();
    timer.cancel();
    for (auto& [fd, watcher] : watchers) {
      watcher->alive = false;
      watcher->descriptor.cancel();
      watcher->descriptor.release();  // c-ares owns and closes its sockets
    }
    watchers.clear();
    if (channel != nullptr) {
      ares_channel closing = channel;
      channel = nullptr;
      ares_destroy(closing);
    }
  }

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    if (!readable && !writable) {
      if (auto it = self->watchers.find(fd); it != self->watchers.end()) {
        it->second->alive = false;
        it->second->descriptor.cancel();
        it->second->descriptor.release();
        self->watchers.erase(it);
      }
      return;
    }
    auto& watcher = self->watchers[fd];
    if (!watcher) watcher = std::make_shared<Watcher>(self->io, fd);
    watcher->want_read = readable;
    watcher->want_write = writable;
    self->arm(fd, watcher);
  }

  void arm(int fd, const std::shared_ptr<Watcher>& watcher) {
    auto self = shared_from_this();
    if (watcher->want_read && !watcher->read_pending) {
      watcher->read_pending = true;
      watcher->descriptor.async_wait(
          asio::posix::stream_descriptor::wait_read,
          [self, fd, watcher](const boost::system::error_code& ec) {
            watcher->read_pending = false;
            if (ec || !watcher->alive || self->channel == nullptr) return;
            ares_process_fd(self->channel, fd, ARES_SOCKET_BAD);
            if (watcher->alive) self->arm(fd, watcher);
            self->schedule_timer();
          });
    }
    if (watcher->want_write && !watcher->write_pending) {
      watcher->write_pending = true;
      watcher->descriptor.async_wait(
          asio::posix::stream_descriptor::wait_write,
          [self, fd, watcher](const boost::system::error_code& ec) {
            watcher->write_pending = false;
            if (ec || !watcher->alive || self->channel == nullptr) return;
            ares_process_fd(self->channel, ARES_SOCKET_BAD, fd);
            if (watcher->alive) self->arm(fd, watcher);
            self->schedule_timer();
          });
    }
  }

  void schedule_timer() {
    if (channel == nullptr) return;
    timeval max{1, 0};
    timeval tv{};
    // The answer is the returned pointer: `tv` when a query is due sooner than `max`, else
    // `max` itself with `tv` untouched. Reading `tv` regardless made an idle resolver (no
    // query pending) wake the loop every millisecond.
    const timeval* next = ares_timeout(channel, &max, &tv);
    if (next == nullptr) return;
    // c-ares can report an already-due timeout that its next pass does not act on yet
    // (its deadlines have millisecond granularity): never re-arm for less than 1 ms.
    const auto due =
        std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec);
    timer.expires_after(std::max<std::chrono::microseconds>(due, std::chrono::milliseconds(1)));
    auto self = shared_from_this();
    timer.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->channel == nullptr) return;
      ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      self->schedule_timer();
    });
  }

  // A resolution in progress, and the coroutines waiting for it (each on its own executor,
  // woken by cancelling its timer there).
  struct Inflight {
    bool done = false;
    ResolveResult result;
    std::vector<std::pair<asio::any_io_executor, asio::steady_timer*>> waiters;
  };
  std::unordered_map<std::string, std::shared_ptr<Inflight>> inflight;  // under cache_mutex

  asio::awaitable<ResolveResult> wait_for(std::shared_ptr<Inflight> pending) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, asio::steady_timer::time_point::max());
    {
      std::lock_guard lock(cache_mutex);
      if (pending->done) co_return pending->result;
      pending->waiters.emplace_back(executor, &timer);
    }
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::lock_guard lock(cache_mutex);
    co_return pending->result;
  }

  void finish(const std::string& name, const std::shared_ptr<Inflight>& pending,
              const ResolveResult& result) {
    std::lock_guard lock(cache_mutex);
    pending->done = true;
    pending->result = result;
    for (auto& [executor, timer] : pending->waiters) {
      asio::post(executor, [timer = timer] { timer->cancel(); });
    }
    pending->waiters.clear();
    if (auto it = inflight.find(name); it != inflight.end() && it->second == pending) {
      inflight.erase(it);
    }
  }

  void remember(const std::string& name, const std::vector<asio::ip::address>& addresses,
                int ttl) {
    if (addresses.empty() || ttl <= 0) return;
    std::lock_guard lock(cache_mutex);
    if (cache.size() < kCacheLimit) {
      cache[name] = {addresses, std::chrono::steady_clock::now() + std::chrono::seconds(ttl)};
    }
  }

  asio::awaitable<ResolveResult> resolve_over_https(std::string name);

  template <typename Handler>
  void start_resolve(Handler handler, std::string host);
  template <typename Handler>
  void start_forward(Handler handler, std::vector<std::uint8_t> message);

  template <typename Handler, typename Result>
  void complete(Handler&& handler, Result&& result) {
    auto executor = asio::get_associated_executor(handler, io.get_executor());
    asio::post(executor, [handler = std::forward<Handler>(handler),
                          result = std::forward<Result>(result)]() mutable {
      std::move(handler)(std::move(result));
    });
  }
};

Resolver::Resolver(asio::io_context& io, const std::vector<std::string>& servers)
    : impl_(std::make_shared<Impl>(io)) {
  init_library();
  ares_options options{};
  options.sock_state_cb = &Impl::on_socket_state;
  options.sock_state_cb_data = impl_.get();
  options.timeout = kTimeoutMs;
  options.tries = kTries;
  // "b": DNS only. The host's /etc/hosts is not consulted, so what the proxy connects to
  // is exactly what the trusted resolvers say.
  char lookups[] = "b";
  options.lookups = lookups;
  const int mask =
      ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  if (const int status = ares_init_options(&impl_->channel, &options, mask);
      status != ARES_SUCCESS) {
    throw SetupError(std::string("c-ares init: ") + ares_strerror(status));
  }
  if (!servers.empty()) {
    std::string csv;
    for (const std::string& server : servers) csv += (csv.empty() ? "" : ",") + server;
    if (const int status = ares_set_servers_ports_csv(impl_->channel, csv.c_str());
        status != ARES_SUCCESS) {
      throw SetupError("--dns-servers '" + csv + "': " + ares_strerror(status));
    }
  }
  if (servers_text().empty()) {
    throw SetupError("no DNS servers: the host's resolv.conf names none; use --dns-servers");
  }
}

Resolver::~Resolver() { impl_->shutdown(); }

std::string Resolver::servers_text() const {
  if (impl_->doh) return impl_->doh_text;
  ares_addr_port_node* nodes = nullptr;
  if (ares_get_servers_ports(impl_->channel, &nodes) != ARES_SUCCESS) return "";
  std::string text;
  for (ares_addr_port_node* node = nodes; node != nullptr; node = node->next) {
    char buffer[INET6_ADDRSTRLEN] = {};
    inet_ntop(node->family, &node->addr, buffer, sizeof buffer);
    const int port = node->udp_port ? node->udp_port : 53;
    text += (text.empty() ? "" : ", ") +
            (node->family == AF_INET6 ? "[" + std::string(buffer) + "]" : std::string(buffer)) +
            ":" + std::to_string(port);
  }
  ares_free_data(nodes);
  return text;
}

asio::awaitable<ResolveResult> Resolver::resolve(std::string name) {
  // One query per name at a time: when many connections to the same new name arrive at
  // once, the first asks and the others wait for its answer (a burst of identical queries
  // only invites drops and retries upstream).
  std::shared_ptr<Impl::Inflight> inflight;
  bool leader = false;
  {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(impl_->cache_mutex);
    if (auto it = impl_->cache.find(name); it != impl_->cache.end()) {
      if (it->second.expires > now) co_return ResolveResult{it->second.addresses, ""};
      impl_->cache.erase(it);
    }
    auto& slot = impl_->inflight[name];
    if (!slot) {
      slot = std::make_shared<Impl::Inflight>();
      leader = true;
    }
    inflight = slot;
  }
  if (!leader) co_return co_await impl_->wait_for(inflight);

  auto impl = impl_;
  if (impl->doh) {
    // On the resolver's loop (the DoH client lives there); the answer comes back to the
    // caller's executor. A named awaitable: GCC 12 mishandles a lambda temporary here.
    asio::awaitable<ResolveResult> lookup = impl->resolve_over_https(name);
    ResolveResult result = co_await asio::co_spawn(impl->io, std::move(lookup), asio::use_awaitable);
    impl_->finish(name, inflight, result);
    co_return result;
  }
  // c-ares is driven by the resolver's own loop: the query starts there, and the answer is
  // posted back to the caller's executor (a gateway worker).
  auto initiate = [impl](auto handler, std::string host) {
    asio::post(impl->io, [impl, handler = std::move(handler), host = std::move(host)]() mutable {
      impl->start_resolve(std::move(handler), std::move(host));
    });
  };
  ResolveResult result =
      co_await asio::async_initiate<decltype(asio::use_awaitable), void(ResolveResult)>(
          initiate, asio::use_awaitable, name);
  impl_->finish(name, inflight, result);
  co_return result;
}

template <typename Handler>
void Resolver::Impl::start_resolve(Handler handler, std::string host) {
  auto impl = shared_from_this();
  {
    struct Operation {
      Handler handler;
      std::shared_ptr<Impl> impl;
      std::string host;
    };
    if (impl->channel == nullptr) {
      impl->complete(std::move(handler), ResolveResult{{}, "resolver stopped"});
      return;
    }
    auto* operation = new Operation{std::move(handler), impl, host};
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NOSORT;
    ares_getaddrinfo(
        impl->channel, operation->host.c_str(), nullptr, &hints,
        [](void* arg, int status, int, ares_addrinfo* info) {
          std::unique_ptr<Operation> op(static_cast<Operation*>(arg));
          ResolveResult result;
          int ttl = static_cast<int>(kMaxCacheTtl.count());
          if (status != ARES_SUCCESS) {
            result.error = ares_strerror(status);
          } else {
            std::vector<asio::ip::address> v6;
            for (ares_addrinfo_node* node = info->nodes; node; node = node->ai_next) {
              ttl = std::min(ttl, node->ai_ttl);
              if (node->ai_family == AF_INET) {
                const auto* sin = reinterpret_cast<const sockaddr_in*>(node->ai_addr);
                result.addresses.push_back(asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)));
              } else if (node->ai_family == AF_INET6) {
                const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(node->ai_addr);
                asio::ip::address_v6::bytes_type bytes;
                std::memcpy(bytes.data(), &sin6->sin6_addr, bytes.size());
                v6.push_back(asio::ip::address_v6(bytes));
              }
            }
            result.addresses.insert(result.addresses.end(), v6.begin(), v6.end());
            if (result.addresses.empty()) result.error = "no addresses";
          }
          if (info) ares_freeaddrinfo(info);
          if (result.error.empty()) op->impl->remember(op->host, result.addresses, ttl);
          auto impl = op->impl;
          impl->complete(std::move(op->handler), std::move(result));
        },
        operation);
    impl->schedule_timer();
  }
}

asio::awaitable<ForwardResult> Resolver::forward(std::vector<std::uint8_t> query) {
  auto impl = impl_;
  if (impl->doh) {
    asio::awaitable<ForwardResult> exchange = impl->doh->exchange(std::move(query));
    co_return co_await asio::co_spawn(impl->io, std::move(exchange), asio::use_awaitable);
  }
  auto initiate = [impl](auto handler, std::vector<std::uint8_t> message) {
    asio::post(impl->io,
               [impl, handler = std::move(handler), message = std::move(message)]() mutable {
                 impl->start_forward(std::move(handler), std::move(message));
               });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(ForwardResult)>(
      initiate, asio::use_awaitable, std::move(query));
}

asio::awaitable<ResolveResult> Resolver::Impl::resolve_over_https(std::string name) {
  ResolveResult result;
  std::vector<asio::ip::address> v6;
  std::uint32_t ttl = static_cast<std::uint32_t>(kMaxCacheTtl.count());
  for (const std::uint16_t qtype : {kTypeA, kTypeAaaa}) {
    std::vector<std::uint8_t> query = make_lookup_query(name, qtype, 0);
    if (query.empty()) {
      result.error = "invalid name";
      co_return result;
    }
    ForwardResult answer = co_await doh->exchange(std::move(query));
    if (!answer.error.empty()) {
      result.error = answer.error;
      break;  // the server is unreachable: the other type would only wait as long again
    }
    LookupAnswer lookup = read_lookup_answer(answer.response, name, qtype);
    if (!lookup.parsed) {
      result.error = "malformed answer: " + lookup.error;
    } else if (lookup.rcode == kRcodeNxDomain) {
      result.error = "Domain name not found";
    } else if (lookup.rcode != kRcodeNoError) {
      result.error = "upstream answered " + rcode_name(lookup.rcode);
    }
    for (const auto& bytes : lookup.v4) result.addresses.push_back(asio::ip::address_v4(bytes));
    for (const auto& bytes : lookup.v6) v6.push_back(asio::ip::address_v6(bytes));
    if (!lookup.v4.empty() || !lookup.v6.empty()) ttl = std::min(ttl, lookup.ttl);
  }
  result.addresses.insert(result.addresses.end(), v6.begin(), v6.end());
  if (result.addresses.empty()) {
    if (result.error.empty()) result.error = "no addresses";
    co_return result;
  }
  result.error.clear();
  remember(name, result.addresses, static_cast<int>(ttl));
  co_return result;
}

void Resolver::send_over_https(const DohUrl& url, std::shared_ptr<asio::ssl::context> tls,
                               bool warn) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  if (url.ip_literal) {
    // Named by address on purpose: used as given, internal or not.
    endpoints.emplace_back(asio::ip::make_address(url.host), url.port);
  } else {
    // The one plain DNS query awf makes in this mode: where the DoH server is.
    std::optional<ResolveResult> found;
    impl_->start_resolve([&found](ResolveResult result) { found = std::move(result); }, url.host);
    while (!found && impl_->io.run_one() > 0) {
    }
    const std::string flag = "--dns-over-https: ";
    if (!found || !found->error.empty()) {
      throw SetupError(flag + "cannot resolve the DoH server '" + url.host + "' with " +
                       servers_text() + ": " + (found ? found->error : "no answer") +
                       " (name it by IP address, or use --dns-servers)");
    }
    std::string refused;
    for (const asio::ip::address& address : found->addresses) {
      if (auto why = internal_reason(address)) {
        if (refused.empty()) refused = address.to_string() + " (" + *why + ")";
        continue;
      }
      endpoints.emplace_back(address, url.port);
    }
    if (endpoints.empty()) {
      throw SetupError(flag + "the DoH server '" + url.host + "' resolves to internal address " +
                       refused + "; to use an internal server on purpose, put its IP address "
                       "in the URL");
    }
    // Forget that lookup: from here on every name is asked over HTTPS.
    std::lock_guard lock(impl_->cache_mutex);
    impl_->cache.clear();
  }
  std::string text;
  for (const auto& endpoint : endpoints) {
    text += (text.empty() ? "" : ", ") + endpoint.address().to_string();
  }
  impl_->doh_text = doh_url_text(url) + " (" + text + ")";
  impl_->doh = std::make_shared<DohClient>(impl_->io,
                                           DohServer{url, std::move(endpoints), std::move(tls), warn});
}

template <typename Handler>
void Resolver::Impl::start_forward(Handler handler, std::vector<std::uint8_t> message) {
  auto impl = shared_from_this();
  {
    struct Operation {
      Handler handler;
      std::shared_ptr<Impl> impl;
      std::uint16_t id;
    };
    const std::uint16_t id = message.size() >= 2
                                 ? static_cast<std::uint16_t>(message[0] << 8 | message[1])
                                 : 0;
    if (impl->channel == nullptr) {
      impl->complete(std::move(handler), ForwardResult{{}, "resolver stopped"});
      return;
    }
    auto* operation = new Operation{std::move(handler), impl, id};
    ares_send(
        impl->channel, message.data(), static_cast<int>(message.size()),
        [](void* arg, int status, int, unsigned char* answer, int length) {
          std::unique_ptr<Operation> op(static_cast<Operation*>(arg));
          ForwardResult result;
          if (status == ARES_SUCCESS || (answer != nullptr && length >= 12)) {
            result.response.assign(answer, answer + length);
            set_message_id(result.response, op->id);
          } else {
            result.error = ares_strerror(status);
          }
          auto impl = op->impl;
          impl->complete(std::move(op->handler), std::move(result));
        },
        operation);
    impl->schedule_timer();
  }
}

}  // namespace awf::dns
