#include "proxy/api_budget.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace awf::proxy {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void refuse(const std::string& key, const std::string& what) {
  throw std::invalid_argument("config.apiProxy." + key + " " + what);
}

// A whole number >= 1 (AWF's schema: "integer", "minimum": 1).
std::uint64_t positive_integer(const nlohmann::json& value, const std::string& key) {
  if (value.is_number_unsigned() && value.get<std::uint64_t>() >= 1) {
    return value.get<std::uint64_t>();
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::isfinite(number) && number >= 1 && std::floor(number) == number && number < 9e15) {
      return static_cast<std::uint64_t>(number);
    }
  }
  refuse(key, "must be a whole number of at least 1 (got " + value.dump() + ")");
}

// A number > 0 (AWF's schema: "exclusiveMinimum": 0).
double positive_number(const nlohmann::json& value, const std::string& key) {
  if (value.is_number()) {
    const double number = value.get<double>();
    if (std::isfinite(number) && number > 0) return number;
  }
  refuse(key, "must be a number greater than 0 (got " + value.dump() + ")");
}

// Whole numbers as integers, as JavaScript prints them.
Json number(double value) {
  if (std::floor(value) == value && std::fabs(value) < 9e15) {
    return static_cast<std::int64_t>(value);
  }
  return value;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// JavaScript's String(number) for the messages: integers without a fraction.
std::string shown(double value) {
  if (std::floor(value) == value && std::fabs(value) < 9e15) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  return number(value).dump();
}

std::string error_body(Json error) {
  Json body;
  body["error"] = std::move(error);
  // A model name is the client's and not trusted to be UTF-8: replaced, never a broken body.
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

using Fields = std::vector<std::pair<std::string, Json>>;

BudgetRefusal refusal(int status, const char* type, std::string message, const Fields& fields,
                      std::string reason) {
  Json error;
  error["type"] = type;
  error["message"] = std::move(message);
  for (const auto& [key, value] : fields) error[key] = value;
  return BudgetRefusal{status, type, error_body(std::move(error)),
                       std::move(reason) + " (" + type + ")"};
}

// AWF's token-steering thresholds (percent of maxEffectiveTokens) and their warnings.
struct SteeringThreshold {
  double percent;
  std::string_view text;
};
constexpr std::array<SteeringThreshold, 4> kSteeringThresholds = {{
    {80,
     "You have used 80% of your effective token budget. Begin planning to wrap up your current "
     "work."},
    {90,
     "You have used 90% of your effective token budget. Complete your current task and prepare "
     "final output."},
    {95, "You have used 95% of your effective token budget. Finalize and submit your work now."},
    {99,
     "You have used 99% of your effective token budget. You are about to be cut off. Submit "
     "immediately."},
}};

// AWF's run-time warnings (timeout-steering.js), at the same thresholds.
constexpr std::array<std::string_view, 4> kTimeWarnings = {
    "You have used 80% of your allotted run time. Begin planning to wrap up your current work.",
    "You have used 90% of your allotted run time. Complete your current task and prepare final "
    "output.",
    "You have used 95% of your allotted run time. Finalize and submit your work now.",
    "You have used 99% of your allotted run time. You are about to time out. Submit "
    "immediately.",
};

// The highest pending bit of `pending` (cleared), as an index; nullopt when none.
std::optional<std::size_t> take_highest(unsigned& pending) {
  for (std::size_t i = kSteeringThresholds.size(); i-- > 0;) {
    const unsigned bit = 1u << i;
    if (pending & bit) {
      pending &= ~bit;
      return i;
    }
  }
  return std::nullopt;
}

// Marks the thresholds `percent` has reached for the first time as crossed and pending.
void cross(double percent, unsigned& crossed, unsigned& pending) {
  for (std::size_t i = 0; i < kSteeringThresholds.size(); ++i) {
    const unsigned bit = 1u << i;
    if (percent >= kSteeringThresholds[i].percent && !(crossed & bit)) {
      crossed |= bit;
      pending |= bit;
    }
  }
}

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

}  // namespace

BudgetConfig parse_budget_config(std::string_view api_proxy_json) {
  BudgetConfig out;
  if (api_proxy_json.empty()) return out;
  const nlohmann::json section = nlohmann::json::parse(api_proxy_json, nullptr, false);
  if (!section.is_object()) return out;
  const auto given = [&](const char* key) {
    return section.contains(key) && !section[key].is_null();
  };
  if (given("maxRuns")) out.max_runs = positive_integer(section["maxRuns"], "maxRuns");
  if (given("maxTurns")) out.max_runs = positive_integer(section["maxTurns"], "maxTurns");
  if (given("maxAiCredits")) {
    out.max_ai_credits = positive_number(section["maxAiCredits"], "maxAiCredits");
  }
  if (given("maxEffectiveTokens")) {
    out.max_effective_tokens =
        positive_integer(section["maxEffectiveTokens"], "maxEffectiveTokens");
  }
  if (given("defaultModelMultiplier")) {
    out.default_multiplier =
        positive_number(section["defaultModelMultiplier"], "defaultModelMultiplier");
  }
  if (given("modelMultipliers")) {
    const nlohmann::json& multipliers = section["modelMultipliers"];
    if (!multipliers.is_object()) {
      refuse("modelMultipliers",
             "must be an object of model names and multipliers, e.g. "
             "{\"claude-opus-4.5\": 3}");
    }
    for (const auto& [model, value] : multipliers.items()) {
      if (model.empty()) refuse("modelMultipliers", "has an empty model name");
      out.multipliers.emplace_back(model, positive_number(value, "modelMultipliers." + model));
    }
  }
  return out;
}

void merge_multipliers(std::vector<std::pair<std::string, double>>& multipliers,
                       const std::vector<std::pair<std::string, double>>& overrides) {
  for (const auto& override_entry : overrides) {
    const std::string& model = override_entry.first;
    const auto it = std::find_if(multipliers.begin(), multipliers.end(),
                                 [&](const auto& entry) { return entry.first == model; });
    if (it != multipliers.end()) {
      it->second = override_entry.second;
    } else {
      multipliers.push_back(override_entry);
    }
  }
}

bool is_inference_request(std::string_view method, std::string_view target) {
  if (method != "POST") return false;
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  static constexpr std::array<std::string_view, 5> kTails = {"/chat/completions", "/responses",
                                                             "/v1/messages", ":generateContent",
                                                             ":streamGenerateContent"};
  return std::any_of(kTails.begin(), kTails.end(),
                     [&](std::string_view tail) { return ends_with(path, tail); });
}

double model_multiplier(const BudgetConfig& config, std::string_view model) {
  const std::pair<std::string, double>* prefix = nullptr;
  for (const auto& entry : config.multipliers) {
    if (entry.first == model) return entry.second;
    if (model.size() > entry.first.size() && model.starts_with(entry.first) &&
        model[entry.first.size()] == '-' &&
        (prefix == nullptr || entry.first.size() > prefix->first.size())) {
      prefix = &entry;
    }
  }
  if (prefix) return prefix->second;
  return config.default_multiplier.value_or(1.0);
}

double effective_tokens(const TokenUsage& usage, double multiplier) {
  const double weighted =
      1.0 * static_cast<double>(usage.input) + 0.1 * static_cast<double>(usage.cache_read) +
      4.0 * static_cast<double>(usage.output) + 4.0 * static_cast<double>(usage.reasoning);
  return multiplier * weighted;
}

std::optional<std::string> inject_steering_message(std::string_view body, std::string_view provider,
                                                   std::string_view message) {
  if (!json_nesting_within(body, kMaxRewriteDepth)) return std::nullopt;
  Json parsed = Json::parse(body, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  const std::string text(message);
  if (provider == "anthropic") {
    Json& system = parsed["system"];
    if (system.is_string()) {
      system = system.get<std::string>() + "\n\n" + text;
    } else if (system.is_array()) {
      system.push_back(Json{{"type", "text"}, {"text", text}});
    } else {
      system = text;
    }
  } else if (provider == "gemini") {
    Json& instruction = parsed["systemInstruction"];
    if (instruction.is_object()) {
      Json& parts = instruction["parts"];
      if (!parts.is_array()) parts = Json::array();
      parts.push_back(Json{{"text", text}});
    } else {
      instruction = Json{{"parts", Json::array({Json{{"text", text}}})}};
    }
  } else {
    if (!parsed.contains("messages") || !parsed["messages"].is_array()) return std::nullopt;
    Json& messages = parsed["messages"];
    std::size_t insert_at = 0;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const Json& entry = messages[i];
      if (entry.is_object() && entry.contains("role") && entry["role"] == "system") {
        insert_at = i + 1;
      }
    }
    messages.insert(messages.begin() + static_cast<std::ptrdiff_t>(insert_at),
                    Json{{"role", "system"}, {"content", text}});
  }
  return parsed.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ApiBudget::ApiBudget(BudgetConfig config, PricingConfig pricing)
    : config_(std::move(config)), pricing_(std::move(pricing)) {}

bool ApiBudget::reads_model() const {
  return config_.max_multiplier_cap.has_value();
}

namespace {

// The counted budgets: effective tokens, model calls, consecutive cache misses, 401/403 answers.
std::optional<BudgetRefusal> check_counts(const BudgetConfig& c, const BudgetCounts& now) {
  if (c.max_effective_tokens &&
      now.effective_tokens >= static_cast<double>(*c.max_effective_tokens)) {
    const std::string max = std::to_string(*c.max_effective_tokens);
    return refusal(
        403, "effective_tokens_limit_exceeded",
        "Maximum effective tokens exceeded (" + fixed(now.effective_tokens, 2) + " / " + max + ").",
        {{"total_effective_tokens", number(now.effective_tokens)},
         {"max_effective_tokens", *c.max_effective_tokens}},
        "budget apiProxy.maxEffectiveTokens of " + max +
            " reached: " + fixed(now.effective_tokens, 2) + " effective tokens");
  }
  if (c.max_runs && now.runs >= *c.max_runs) {
    const std::string count = std::to_string(now.runs);
    const std::string max = std::to_string(*c.max_runs);
    return refusal(
        429, "max_runs_exceeded", "Maximum LLM invocations exceeded (" + count + " / " + max + ").",
        {{"invocation_count", now.runs}, {"max_runs", *c.max_runs}},
        "budget apiProxy.maxTurns/maxRuns of " + max + " reached: " + count + " model calls");
  }
  if (c.max_cache_misses && now.cache_misses >= *c.max_cache_misses) {
    const std::string count = std::to_string(now.cache_misses);
    const std::string max = std::to_string(*c.max_cache_misses);
    return refusal(
        403, "max_cache_misses_exceeded",
        "Maximum consecutive cache misses exceeded (" + count + " / " + max + ").",
        {{"consecutive_cache_misses", now.cache_misses}, {"max_cache_misses", *c.max_cache_misses}},
        "budget --max-cache-misses of " + max + " reached: " + count + " consecutive cache misses");
  }
  if (c.max_permission_denied && now.permission_denied >= *c.max_permission_denied) {
    const std::string count = std::to_string(now.permission_denied);
    const std::string max = std::to_string(*c.max_permission_denied);
    return refusal(403, "permission_denied_limit_exceeded",
                   "Permission denied limit exceeded (" + count + " / " + max +
                       "). The run has been stopped due to repeated permission errors \u2014 "
                       "check that all API keys and tokens are correctly configured.",
                   {{"denied_count", now.permission_denied},
                    {"max_permission_denied", *c.max_permission_denied}},
                   "budget --max-permission-denied of " + max + " reached: " + count +
                       " answers 401/403 from the providers");
  }
  return std::nullopt;
}

// maxAiCredits, and AWF's hard cap that applies without it.
std::optional<BudgetRefusal> check_credits(const BudgetConfig& c, const BudgetCounts& now) {
  const double credits = round_credits(now.ai_credits);
  const bool hard_cap = credits >= kAiCreditsHardCap;
  const std::optional<double> max_credits =
      c.max_ai_credits ? std::optional(std::min(*c.max_ai_credits, kAiCreditsHardCap))
                       : std::nullopt;
  if (hard_cap || (max_credits && credits >= *max_credits)) {
    const double max = hard_cap ? kAiCreditsHardCap : *max_credits;
    const std::string shown_total = fixed(credits, 6) + " / " + shown(max);
    return refusal(403, "ai_credits_limit_exceeded",
                   hard_cap ? "Hard cap on AI credits reached (" + shown_total +
                                  "). This limit cannot be overridden."
                            : "Maximum AI credits exceeded (" + shown_total + ").",
                   {{"total_ai_credits", number(credits)},
                    {"max_ai_credits", number(max)},
                    {"hard_cap", hard_cap}},
                   (hard_cap ? "AI credits hard cap of " + shown(max)
                             : "budget apiProxy.maxAiCredits of " + shown(max)) +
                       " reached: " + fixed(credits, 6) + " AI credits");
  }
  return std::nullopt;
}

// --max-model-multiplier-cap on the request's model.
std::optional<BudgetRefusal> check_multiplier(const BudgetConfig& c, std::string_view provider,
                                              const std::string& name) {
  if (c.max_multiplier_cap) {
    const std::string cap = shown(*c.max_multiplier_cap);
    const bool explicit_auto = std::any_of(c.multipliers.begin(), c.multipliers.end(),
                                           [&](const auto& entry) { return entry.first == name; });
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (provider == "copilot" && lower == "auto" && !explicit_auto) {
      return refusal(400, "model_multiplier_cap_unverifiable",
                     "Model \"" + name +
                         "\" selects a concrete model at runtime, so its multiplier cannot be "
                         "proven to be within the configured cap. Configure an explicit "
                         "multiplier for \"" +
                         name + "\" to opt in.",
                     {{"model", name},
                      {"model_multiplier", Json(nullptr)},
                      {"max_model_multiplier", number(*c.max_multiplier_cap)}},
                     "budget --max-model-multiplier-cap " + cap + ": model '" + name +
                         "' picks its model at run time");
    }
    const double multiplier = model_multiplier(c, name);
    if (multiplier > *c.max_multiplier_cap) {
      return refusal(400, "model_multiplier_cap_exceeded",
                     "Model multiplier cap exceeded: model \"" + name + "\" has multiplier " +
                         shown(multiplier) + " which exceeds the configured maximum of " + cap +
                         ".",
                     {{"model", name},
                      {"model_multiplier", number(multiplier)},
                      {"max_model_multiplier", number(*c.max_multiplier_cap)}},
                     "budget --max-model-multiplier-cap " + cap + ": model '" + name +
                         "' has multiplier " + shown(multiplier));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<BudgetRefusal> ApiBudget::check(std::string_view provider,
                                              std::optional<std::string_view> model) const {
  BudgetCounts now;
  {
    const std::lock_guard lock(mutex_);
    now = counts_;
  }
  if (auto refusal = check_counts(config_, now)) return refusal;
  if (auto refusal = check_credits(config_, now)) return refusal;
  if (!model || model->empty()) return std::nullopt;
  return check_multiplier(config_, provider, std::string(*model));
}

void ApiBudget::answered(bool inference, int status) {
  const std::lock_guard lock(mutex_);
  if (inference && status >= 200 && status < 300) ++counts_.runs;
  if (status == 401 || status == 403) ++counts_.permission_denied;
}

void ApiBudget::account(UsageRecord& record) {
  record.price = choose_price(pricing_, record.provider, record.model);
  // AWF prices most models from its models.dev catalogue and refuses the others under
  // maxAiCredits (400 unknown_model_ai_credits). awf has no catalogue: refusing would refuse
  // models AWF serves (gpt-5), and not counting them would let any unpriced model bypass the
  // budget. So under maxAiCredits they cost AWF's conservative price for an unknown model.
  if (!record.price && config_.max_ai_credits) {
    record.price = choose_price(pricing_, record.provider, "unknown");
  }
  const std::lock_guard lock(mutex_);
  if (record.price) {
    const double credits = ai_credits(record.usage, record.provider, record.price->price);
    counts_.ai_credits += credits;
    counts_.credits_by_model[record.model] += credits;
    record.credits = round_credits(credits);
    record.credits_total = round_credits(counts_.ai_credits);
  }
  if (config_.max_effective_tokens) {
    const double multiplier = model_multiplier(config_, record.model);
    const double tokens = effective_tokens(record.usage, multiplier);
    counts_.effective_tokens += tokens;
    record.effective = UsageRecord::EffectiveTokens{tokens, counts_.effective_tokens, multiplier};
    const double percent =
        counts_.effective_tokens / static_cast<double>(*config_.max_effective_tokens) * 100;
    cross(percent, thresholds_crossed_, thresholds_pending_);
  }
  // AWF: only a response with input counts; one with cache reads ends the streak.
  if (record.usage.input > 0) {
    counts_.cache_misses = record.usage.cache_read > 0 ? 0 : counts_.cache_misses + 1;
  }
}

std::optional<std::string> ApiBudget::take_steering_message() {
  if (!config_.token_steering) return std::nullopt;
  const std::lock_guard lock(mutex_);
  // AWF gives the highest one; lower ones still pending follow on later requests.
  const std::optional<std::size_t> index = take_highest(thresholds_pending_);
  if (!index) return std::nullopt;
  return "[AWF TOKEN WARNING] " + std::string(kSteeringThresholds[*index].text);
}

std::optional<std::string> ApiBudget::take_time_warning(std::int64_t now_ms) {
  if (!config_.token_steering || config_.agent_timeout_minutes == 0) return std::nullopt;
  const double elapsed =
      static_cast<double>(std::max<std::int64_t>(0, now_ms - config_.started_ms));
  const double timeout = static_cast<double>(config_.agent_timeout_minutes) * 60'000;
  const std::lock_guard lock(mutex_);
  cross(elapsed / timeout * 100, time_crossed_, time_pending_);
  const std::optional<std::size_t> index = take_highest(time_pending_);
  if (!index) return std::nullopt;
  return "[AWF TIME WARNING] " + std::string(kTimeWarnings[*index]);
}

BudgetCounts ApiBudget::counts() const {
  const std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace awf::proxy
