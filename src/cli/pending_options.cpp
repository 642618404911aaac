#include "cli/pending_options.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>

namespace awf::cli {
namespace {

bool given(const CLI::App& app, const char* flag) {
  return app.count(flag) > 0;
}

std::uint64_t positive_integer(const char* flag, const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0) {
    throw UsageError(std::string(flag) + " '" + text + "': expected a positive whole number");
  }
  return value;
}

double positive_number(const std::string& flag, const std::string& text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value) || value <= 0) {
    throw UsageError(flag + " '" + text + "': expected a positive number");
  }
  return value;
}

// MODEL:X[,MODEL:X...]
std::vector<std::pair<std::string, double>> multipliers(const std::string& text) {
  std::vector<std::pair<std::string, double>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    const std::size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      throw UsageError("--max-model-multiplier '" + text +
                       "': expected MODEL:MULTIPLIER pairs, comma-separated");
    }
    out.emplace_back(
        item.substr(0, colon),
        positive_number("--max-model-multiplier " + item.substr(0, colon), item.substr(colon + 1)));
    start = comma + 1;
  }
  return out;
}

// HOST:PORT for the DIFC proxy (as gh-aw passes it: awmg-cli-proxy:18443).
std::string host_and_port(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  const std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || host.find_first_of("/ @") != std::string::npos || port.empty() ||
      error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    throw UsageError("--difc-proxy-host '" + text + "': expected HOST:PORT");
  }
  return text;
}

void convert_limits(const CLI::App& app, const RawValues& raw, PendingApiOptions& out) {
  if (given(app, "--rate-limit-rpm")) {
    out.rate_limit_rpm = positive_integer("--rate-limit-rpm", raw.rate_rpm);
  }
  if (given(app, "--rate-limit-rph")) {
    out.rate_limit_rph = positive_integer("--rate-limit-rph", raw.rate_rph);
  }
  if (given(app, "--rate-limit-bytes-pm")) {
    out.rate_limit_bytes_pm = positive_integer("--rate-limit-bytes-pm", raw.rate_bytes_pm);
  }
  out.no_rate_limit = raw.no_rate_limit;
  if (given(app, "--max-model-multiplier"))
    out.model_multipliers = multipliers(raw.model_multipliers);
  if (given(app, "--max-model-multiplier-cap")) {
    out.max_model_multiplier_cap =
        positive_number("--max-model-multiplier-cap", raw.multiplier_cap);
  }
  if (given(app, "--max-permission-denied")) {
    out.max_permission_denied =
        positive_integer("--max-permission-denied", raw.max_permission_denied);
  }
  if (given(app, "--max-cache-misses")) {
    out.max_cache_misses = positive_integer("--max-cache-misses", raw.max_cache_misses);
  }
  out.enable_token_steering = raw.token_steering;
  out.anthropic_auto_cache = raw.auto_cache;
  if (given(app, "--anthropic-cache-tail-ttl")) {
    if (raw.cache_tail_ttl != "5m" && raw.cache_tail_ttl != "1h") {
      throw UsageError("--anthropic-cache-tail-ttl '" + raw.cache_tail_ttl +
                       "': expected 5m or 1h");
    }
    out.anthropic_cache_tail_ttl = raw.cache_tail_ttl;
  }
}

}  // namespace

PendingApiOptions convert_pending(const CLI::App& app, const RawValues& raw,
                                  std::string api_proxy_config) {
  PendingApiOptions out;
  out.api_proxy_config = std::move(api_proxy_config);
  if (given(app, "--difc-proxy-host")) out.difc_proxy_host = host_and_port(raw.difc_host);
  if (given(app, "--difc-proxy-ca-cert")) {
    if (raw.difc_ca_cert.empty()) throw UsageError("--difc-proxy-ca-cert: empty path");
    out.difc_proxy_ca_cert = raw.difc_ca_cert;
  }
  convert_limits(app, raw, out);
  return out;
}

}  // namespace awf::cli
