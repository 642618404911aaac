// The shape of AWF v0.28's config file as data: a tree of nodes with the types, enums, bounds,
// patterns and required keys of upstream's JSON schema (docs/awf-config.schema.json and the
// copy gh-aw validates against). Used by awf_config.cpp; pure.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::cli::schema {

enum class Kind {
  Object,      // closed: only `fields`
  Map,         // open: any key, each value an `element`
  OpenObject,  // open: anything at all (apiProxy.providers)
  Array,       // of `element`
  String,
  Integer,
  Number,
  Boolean,
  StringOrList,  // "80,443" or ["80", "443"]
  BoolOrChoice,  // true/false or one of `choices`
  NumberOrNull,
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Field {
  std::string key;
  NodePtr node;
};

struct Node {
  Kind kind = Kind::String;
  std::vector<std::string> choices{};  // enum (strings)
  std::optional<double> minimum{};
  bool exclusive_minimum = false;
  std::optional<double> maximum{};
  std::size_t min_length = 0;
  std::size_t max_length = std::numeric_limits<std::size_t>::max();
  std::size_t min_items = 0;
  std::size_t max_items = std::numeric_limits<std::size_t>::max();
  bool unique_items = false;
  bool (*pattern)(std::string_view) = nullptr;
  std::string shape{};  // what `pattern` wants, for messages
  std::vector<Field> fields{};
  std::vector<std::string> required{};
  NodePtr element{};

  const Field* field(std::string_view key) const;
};

// The root object.
const Node& config_schema();

// The patterns of the schema, written out by hand (no regex engine on untrusted text).
bool is_digest_pinned_image(std::string_view text);  // registry/name:tag@sha256:<64 hex>
bool is_sha256_hex(std::string_view text);
bool is_mount_shape(std::string_view text);       // /host:/container[:ro|rw]
bool is_allow_write_path(std::string_view text);  // absolute, no glob, no ".." segment
bool is_subnet_cidr(std::string_view text);       // a.b.c.d/16../26
bool is_release_tag(std::string_view text);       // v1.2.3[-pre|+build]
bool is_size_limit(std::string_view text);        // 512m
bool is_cpu_limit(std::string_view text);         // 1, 0.5, 12.125
bool is_repo_slug(std::string_view text);         // owner/name
bool is_lower_repo_slug(std::string_view text);
bool is_lower_owner(std::string_view text);
bool is_enclave_model(std::string_view text);
bool is_audit_label(std::string_view text);
bool is_timestamp(std::string_view text);          // 2026-01-02T03:04:05[.s](Z|+hh:mm)
bool is_hosted_web_domain(std::string_view text);  // lower-case name with a dot
bool is_token_log_dir(std::string_view text);      // /var/log/api-proxy[/...]
bool is_env_name_shape(std::string_view text);

}  // namespace awf::cli::schema
