// The API proxy's budgets (AWF's guards, containers/api-proxy/guards/): per awf run, shared by
// every provider, as AWF's one api-proxy process keeps them.
//   maxTurns/maxRuns       2xx answers to model calls (POST .../chat/completions, /responses,
//                          /v1/messages, :generateContent, :streamGenerateContent)  429
//   maxAiCredits           AI credits of the usage records (always: AWF's hard cap of 10000);
//                          a model without a price costs AWF's price for an unknown one  403
//   maxEffectiveTokens     input x1 + cache reads x0.1 + (output + reasoning) x4, times the
//                          model's multiplier; the records gain effective-token fields  403
//   maxCacheMisses         consecutive responses with input but no cache reads            403
//   maxPermissionDenied    the providers' 401/403 answers                                  403
//   maxModelMultiplierCap  a request whose model's multiplier is above the cap            400
// A budget refuses the next request once its count reaches the limit (AWF: count >= max),
// before the request is sent. Pure: counts in, decisions and AWF's JSON bodies out; no I/O.
// One ApiBudget serves every gateway worker (each call takes a lock).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/api_usage.h"
#include "proxy/usage_record.h"

namespace awf::proxy {

// AWF's absolute limit on a run's AI credits, whatever maxAiCredits says.
inline constexpr double kAiCreditsHardCap = 10'000;

struct BudgetConfig {
  std::optional<std::uint64_t> max_runs;               // apiProxy.maxTurns (or maxRuns)
  std::optional<double> max_ai_credits;                // apiProxy.maxAiCredits
  std::optional<std::uint64_t> max_effective_tokens;   // apiProxy.maxEffectiveTokens
  std::optional<std::uint64_t> max_cache_misses;       // --max-cache-misses
  std::optional<std::uint64_t> max_permission_denied;  // --max-permission-denied
  // apiProxy.modelMultipliers with --max-model-multiplier's pairs over them.
  std::vector<std::pair<std::string, double>> multipliers;
  std::optional<double> default_multiplier;  // apiProxy.defaultModelMultiplier (AWF: 1)
  std::optional<double> max_multiplier_cap;  // --max-model-multiplier-cap
  bool token_steering = false;               // --enable-token-steering
  // With token steering, AWF's run-time warnings: --agent-timeout (0: none) from when the run
  // started (Unix ms).
  std::uint64_t agent_timeout_minutes = 0;
  std::int64_t started_ms = 0;
};

// The config file's budget keys without a flag (apiProxy.maxTurns/maxRuns, maxAiCredits,
// maxEffectiveTokens, modelMultipliers, defaultModelMultiplier) from its apiProxy section
// (JSON text, "" for none). maxTurns wins over maxRuns, as in AWF. Throws std::invalid_argument
// naming the key (config.apiProxy.maxRuns ...) for a value of the wrong shape.
BudgetConfig parse_budget_config(std::string_view api_proxy_json);

// `overrides` replace the entries of `multipliers` with the same model, or are added.
void merge_multipliers(std::vector<std::pair<std::string, double>>& multipliers,
                       const std::vector<std::pair<std::string, double>>& overrides);

// A model call, as AWF counts maxRuns: POST to a path (query, fragment and trailing '/' left
// out) ending in /chat/completions, /responses, /v1/messages, :generateContent or
// :streamGenerateContent.
bool is_inference_request(std::string_view method, std::string_view target);

// AWF's multiplier of `model`: the configured one of that name, else of the longest configured
// name that `model` extends with '-', else the default (1 unless configured).
double model_multiplier(const BudgetConfig& config, std::string_view model);

// Effective tokens of one response at `multiplier` (AWF's weights).
double effective_tokens(const TokenUsage& usage, double multiplier);

// --enable-token-steering: the request body with AWF's budget warning added as a system
// instruction: Anthropic's `system` (a string gets "\n\n" + message, a list a text block),
// Gemini's `systemInstruction.parts`, else (OpenAI, Copilot) a system message after the last
// one in `messages`. nullopt when the body is no JSON object (or, OpenAI-style, has no
// `messages` list). Other keys keep their order.
std::optional<std::string> inject_steering_message(std::string_view body, std::string_view provider,
                                                   std::string_view message);

// A request a budget refuses: AWF's status and JSON body, and the record's reason.
struct BudgetRefusal {
  int status = 403;
  std::string type;    // AWF's error type, e.g. "max_runs_exceeded"
  std::string body;    // {"error":{"type":...,"message":...,...}}
  std::string reason;  // names the budget, for the access log and audit record
};

// What the budgets have counted (for /reflect-like reports and tests).
struct BudgetCounts {
  std::uint64_t runs = 0;
  std::uint64_t permission_denied = 0;
  std::uint64_t cache_misses = 0;  // the current streak
  double effective_tokens = 0;
  double ai_credits = 0;  // unrounded
  std::map<std::string, double> credits_by_model;  // the records' models, unrounded
};

class ApiBudget {
 public:
  ApiBudget(BudgetConfig config, PricingConfig pricing);

  const BudgetConfig& config() const { return config_; }
  // check() needs the request's model (a multiplier cap): otherwise the caller need not
  // parse the body.
  bool reads_model() const;

  // Before a request is sent: the first budget that refuses it, in AWF's order (effective
  // tokens, runs, cache misses, permission denied, AI credits, then the model's multiplier).
  // `model`: the request's model, when it names one.
  std::optional<BudgetRefusal> check(std::string_view provider,
                                     std::optional<std::string_view> model) const;

  // A response was relayed with `status`: a 2xx to a model call counts toward maxRuns, a 401
  // or 403 toward maxPermissionDenied.
  void answered(bool inference, int status);

  // A usage record about to be written: prices it (AI credits, added to the run's total; under
  // maxAiCredits a model without a price is charged at AWF's price for an unknown model),
  // adds its effective tokens (and the record's fields for them, with maxEffectiveTokens) and
  // counts a cache miss or ends the streak.
  void account(UsageRecord& record);

  // --enable-token-steering with maxEffectiveTokens: AWF's warning for the highest threshold
  // (80, 90, 95, 99 % of the budget) crossed and not yet given, which is then given; nullopt
  // when none is due.
  std::optional<std::string> take_steering_message();
  // Likewise for the run time at `now_ms` against --agent-timeout (AWF's "[AWF TIME WARNING]").
  std::optional<std::string> take_time_warning(std::int64_t now_ms);

  BudgetCounts counts() const;

 private:
  const BudgetConfig config_;
  const PricingConfig pricing_;
  mutable std::mutex mutex_;
  BudgetCounts counts_;              // under mutex_
  unsigned thresholds_crossed_ = 0;  // under mutex_: bits of kSteeringThresholds
  unsigned thresholds_pending_ = 0;  // under mutex_: crossed, warning not given yet
  unsigned time_crossed_ = 0;        // under mutex_: the same for the run time
  unsigned time_pending_ = 0;        // under mutex_
};

}  // namespace awf::proxy
