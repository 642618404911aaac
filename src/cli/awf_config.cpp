#include "cli/awf_config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include "cli/awf_config_keys.h"
#include "cli/awf_config_rules.h"
#include "cli/awf_config_schema.h"

namespace awf::cli {
namespace {

using schema::Kind;
using schema::Node;

// Deeper nesting than any real config; keeps the recursive steps below (and the JSON dump)
// far from the stack's end on hostile input.
constexpr int kMaxDepth = 64;
// YAML aliases can make a small text a huge tree ("billion laughs"): no config has this many.
constexpr std::size_t kMaxNodes = 100000;

constexpr std::string_view kSections[] = {
    "$schema",      "experimental",    "network", "filesystem", "apiProxy",    "security",
    "container",    "cloudHypervisor", "chroot",  "dind",       "environment", "logging",
    "rateLimiting", "platform",        "runner",  "enclaves"};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument("config." + path + " " + what);
}

// A key as it appears in messages: control bytes shown as '?', so that a hostile file cannot
// write lines of its own into awf's stderr.
std::string printable(std::string_view key) {
  std::string out(key.substr(0, 200));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? printable(key) : path + "." + printable(key);
}

// YAML 1.2 core schema for plain scalars (what AWF's YAML loader does): null, booleans,
// numbers; everything else, and every quoted scalar, is a string.
Json yaml_scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const char* first = text.data() + (text.front() == '+' ? 1 : 0);
  const char* last = text.data() + text.size();
  std::int64_t integer = 0;
  if (auto [end, error] = std::from_chars(first, last, integer);
      error == std::errc() && end == last) {
    return integer;
  }
  double real = 0;
  if (auto [end, error] = std::from_chars(first, last, real);
      error == std::errc() && end == last && std::isfinite(real)) {
    return real;
  }
  return text;
}

Json from_yaml(const YAML::Node& node, int depth, std::size_t& nodes) {
  if (depth > kMaxDepth) throw std::invalid_argument("config nests too deeply");
  if (++nodes > kMaxNodes) throw std::invalid_argument("config has too many values");
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return yaml_scalar(node);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const YAML::Node& item : node) out.push_back(from_yaml(item, depth + 1, nodes));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& item : node) {
        if (!item.first.IsScalar()) throw std::invalid_argument("config keys must be plain names");
        out[item.first.Scalar()] = from_yaml(item.second, depth + 1, nodes);
      }
      return out;
    }
    default:
      return nullptr;
  }
}

Json parse_json(std::string_view text) {
  const Json::parser_callback_t limit_depth = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxDepth) throw std::invalid_argument("config nests too deeply");
    return true;
  };
  try {
    return Json::parse(text, limit_depth);
  } catch (const Json::exception& error) {
    std::string what = error.what();
    if (const std::size_t end = what.find("] "); end != std::string::npos) what.erase(0, end + 2);
    throw std::invalid_argument("config is not valid JSON: " + what);
  }
}

Json parse_yaml(std::string_view text) {
  try {
    std::size_t nodes = 0;
    return from_yaml(YAML::Load(std::string(text)), 0, nodes);
  } catch (const YAML::Exception& error) {
    throw std::invalid_argument("config is not valid YAML: " + error.msg + " (line " +
                                std::to_string(error.mark.line + 1) + ")");
  }
}

Json parse_tree(std::string_view text, ConfigSyntax syntax) {
  if (syntax == ConfigSyntax::Json) return parse_json(text);
  if (syntax == ConfigSyntax::Yaml) return parse_yaml(text);
  try {
    return parse_json(text);
  } catch (const std::invalid_argument& json_error) {
    const std::size_t start = text.find_first_not_of(" \t\r\n");
    const bool looks_like_json =
        start != std::string_view::npos && (text[start] == '{' || text[start] == '[');
    try {
      return parse_yaml(text);
    } catch (const std::invalid_argument&) {
      if (looks_like_json) throw json_error;
      throw;
    }
  }
}

// JSON text of a value; bytes that are not UTF-8 (YAML lets them through) become U+FFFD.
std::string to_text(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string describe(const Json& value) {
  if (value.is_string())
    return "the string \"" + printable(value.get<std::string>().substr(0, 80)) + "\"";
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number()) return to_text(value);
  if (value.is_array()) return "a list";
  if (value.is_object()) return "a mapping";
  return "null";
}

std::string choices_text(const std::vector<std::string>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    out += i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

std::string number_text(double value) {
  Json number = value;
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    number = static_cast<std::int64_t>(value);
  }
  return number.dump();
}

void check(const Json& value, const Node& node, const std::string& path);

void check_object(const Json& value, const Node& node, const std::string& path) {
  if (!value.is_object()) fail(path, "must be a mapping (got " + describe(value) + ")");
  for (const auto& [key, child] : value.items()) {
    const schema::Field* field = node.field(key);
    const std::string child_path = join_path(path, key);
    if (!field) {
      std::vector<std::string> known;
      for (const schema::Field& f : node.fields) known.push_back(f.key);
      throw std::invalid_argument("config." + child_path + " is not supported (" +
                                  (path.empty() ? std::string("the top level") : path) + " takes " +
                                  choices_text(known) + ")");
    }
    check(child, *field->node, child_path);
  }
  for (const std::string& key : node.required) {
    if (!value.contains(key)) fail(join_path(path, key), "is required");
  }
}

void check_array(const Json& value, const Node& node, const std::string& path) {
  if (!value.is_array()) fail(path, "must be a list (got " + describe(value) + ")");
  if (value.size() < node.min_items) {
    fail(path, "needs at least " + std::to_string(node.min_items) + " entries");
  }
  if (value.size() > node.max_items) {
    fail(path, "takes at most " + std::to_string(node.max_items) + " entries");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    check(value[i], *node.element, item_path);
    if (node.unique_items && !seen.insert(to_text(value[i])).second) {
      fail(item_path, "repeats an earlier entry");
    }
  }
}

void check_string(const Json& value, const Node& node, const std::string& path) {
  if (!value.is_string()) fail(path, "must be a string (got " + describe(value) + ")");
  const std::string& text = value.get_ref<const std::string&>();
  if (!node.choices.empty()) {
    for (const std::string& choice : node.choices) {
      if (text == choice) return;
    }
    fail(path, "must be " + choices_text(node.choices) + " (got " + describe(value) + ")");
  }
  if (text.size() < node.min_length) fail(path, "must not be empty");
  if (text.size() > node.max_length) {
    fail(path, "is longer than " + std::to_string(node.max_length) + " characters");
  }
  if (node.pattern && !node.pattern(text)) {
    fail(path, "must be " + node.shape + " (got " + describe(value) + ")");
  }
}

void check_number(const Json& value, const Node& node, const std::string& path) {
  const bool integral =
      value.is_number_integer() ||
      (value.is_number_float() && std::trunc(value.get<double>()) == value.get<double>());
  if (!value.is_number() || (node.kind == Kind::Integer && !integral)) {
    fail(path, std::string("must be ") +
                   (node.kind == Kind::Integer ? "a whole number" : "a number") + " (got " +
                   describe(value) + ")");
  }
  const double number = value.get<double>();
  if (node.minimum && (node.exclusive_minimum ? number <= *node.minimum : number < *node.minimum)) {
    fail(path, std::string("must be ") + (node.exclusive_minimum ? "greater than " : "at least ") +
                   number_text(*node.minimum) + " (got " + to_text(value) + ")");
  }
  if (node.maximum && number > *node.maximum) {
    fail(path, "must be at most " + number_text(*node.maximum) + " (got " + to_text(value) + ")");
  }
}

void check(const Json& value, const Node& node, const std::string& path) {
  switch (node.kind) {
    case Kind::Object:
      return check_object(value, node, path);
    case Kind::Map:
      if (!value.is_object()) fail(path, "must be a mapping (got " + describe(value) + ")");
      for (const auto& [key, child] : value.items())
        check(child, *node.element, join_path(path, key));
      return;
    case Kind::OpenObject:
      if (!value.is_object()) fail(path, "must be a mapping (got " + describe(value) + ")");
      return;
    case Kind::Array:
      return check_array(value, node, path);
    case Kind::String:
      return check_string(value, node, path);
    case Kind::Integer:
    case Kind::Number:
      return check_number(value, node, path);
    case Kind::Boolean:
      if (!value.is_boolean()) fail(path, "must be true or false (got " + describe(value) + ")");
      return;
    case Kind::StringOrList:
      if (value.is_string()) return;
      if (!value.is_array()) fail(path, "must be a string or a list of strings");
      for (const Json& item : value) {
        if (!item.is_string()) fail(path, "must be a string or a list of strings");
      }
      return;
    case Kind::BoolOrChoice:
      if (value.is_boolean()) return;
      if (!value.is_string()) fail(path, "must be true, false or " + choices_text(node.choices));
      return check_string(value, node, path);
    case Kind::NumberOrNull:
      if (!value.is_null()) check_number(value, node, path);
      return;
  }
}

std::string scalar_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return to_text(value);
  return number_text(value.get<double>());
}

void apply_flag(const KeyUse& use, const Json& value, const std::string& path, AwfConfig& out) {
  ConfigSetting setting{std::string(use.text), {}, path};
  if (value.is_boolean()) {
    setting.flag = std::string(value.get<bool>() ? use.text : use.false_flag);
    if (setting.flag.empty()) return;
    setting.values = {"true"};
  } else if (value.is_array()) {
    std::string joined;
    for (const Json& item : value) {
      setting.values.push_back(scalar_text(item));
      joined += (joined.empty() ? "" : ",") + setting.values.back();
    }
    if (setting.values.empty()) return;  // an empty list unsets
    if (use.kind == KeyUse::Kind::JoinedFlag) setting.values = {joined};
  } else {
    setting.values = {scalar_text(value)};
  }
  out.settings.push_back(std::move(setting));
}

void apply(const KeyUse& use, const Json& value, const std::string& path, AwfConfig& out) {
  switch (use.kind) {
    case KeyUse::Kind::Flag:
    case KeyUse::Kind::JoinedFlag:
      return apply_flag(use, value, path, out);
    case KeyUse::Kind::NoEffect:
      out.notices.push_back("awf: config." + path +
                            " has no effect in awf: " + std::string(use.text));
      return;
    case KeyUse::Kind::NotYet:
      out.notices.push_back("awf: config." + path +
                            " is not yet built in awf: " + std::string(use.text));
      return;
    case KeyUse::Kind::Accept:
      return;
  }
}

// In the schema's order, so that where two keys set one flag the later one of the schema
// wins (apiProxy.targets.antigravity over .gemini, as in AWF).
void map_keys(const Json& value, const Node& node, const std::string& path, AwfConfig& out) {
  for (const schema::Field& field : node.fields) {
    if (!value.contains(field.key)) continue;
    const std::string key_path = join_path(path, field.key);
    if (const KeyUse* use = find_key_use(key_path)) {
      apply(*use, value[field.key], key_path, out);
    } else {
      map_keys(value[field.key], *field.node, key_path, out);
    }
  }
}

bool is_structured(const Json& root) {
  if (!root.is_object()) return false;
  for (const auto& [key, value] : root.items()) {
    if (value.is_object()) return true;
    for (std::string_view section : kSections) {
      if (key == section) return true;
    }
  }
  return false;
}

AwfConfig load_tree(const Json& root) {
  if (root.is_null()) return {};
  check(root, schema::config_schema(), "");
  check_config_rules(root);
  AwfConfig out;
  map_keys(root, schema::config_schema(), "", out);
  if (root.contains("apiProxy")) out.api_proxy_json = to_text(root["apiProxy"]);
  return out;
}

}  // namespace

ConfigSyntax config_syntax(std::string_view path) {
  if (path.ends_with(".json")) return ConfigSyntax::Json;
  if (path.ends_with(".yaml") || path.ends_with(".yml")) return ConfigSyntax::Yaml;
  return ConfigSyntax::Either;
}

AwfConfig load_awf_config(std::string_view text, ConfigSyntax syntax) {
  const Json root = parse_tree(text, syntax);
  if (!root.is_null() && !root.is_object()) {
    throw std::invalid_argument("config must be a mapping of sections (network, apiProxy, ...)");
  }
  return load_tree(root);
}

AwfConfig load_config(std::string_view text, ConfigSyntax syntax) {
  const Json root = parse_tree(text, syntax);
  if (is_structured(root)) return load_tree(root);
  return AwfConfig{parse_config(text), {}, ""};
}

}  // namespace awf::cli
