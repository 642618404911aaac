// Internal to src/policy: a reversed-label trie holding plain and wildcard domain rules.
// A lookup walks the host's labels right to left (one hash probe per label), so its cost is
// O(labels), not O(rules). Wildcard rules hang off the node of their literal suffix (the labels
// after the last label holding a '*'); only the rules stored along the host's path are tested,
// each with a linear glob match of the remaining left part of the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace awf::policy::detail {

class DomainTrie {
 public:
  static constexpr std::uint32_t kNone = 0xffffffffu;

  struct Match {
    std::uint32_t block = kNone;              // a block rule that matched (first found)
    std::uint32_t allow[2] = {kNone, kNone};  // deepest allow rule for [0] http, [1] https
  };

  DomainTrie();

  // Pre-sizes the tables for about `labels` distinct labels (optional).
  void reserve(std::size_t labels);

  // `name` is a normalized name without '*'; it and all its subdomains are covered.
  void add_name(std::string_view name, std::uint32_t rule, std::uint8_t protocols, bool block);
  // An allow rule for `name` itself only, none of its subdomains.
  void add_exact(std::string_view name, std::uint32_t rule, std::uint8_t protocols);
  // `pattern` is a normalized wildcard pattern; pattern[suffix_start..] is its literal suffix.
  void add_wildcard(std::string_view pattern, std::size_t suffix_start, std::uint32_t rule,
                    std::uint8_t protocols, bool block);

  // `host` is a normalized, valid host name. Stops at the first block rule found.
  Match match(std::string_view host) const noexcept;

 private:
  struct Node {
    std::uint32_t allow_name[2] = {kNone, kNone};
    std::uint32_t allow_exact[2] = {kNone, kNone};  // this name, no subdomain
    std::uint32_t block_name = kNone;
    std::uint32_t allow_star[2] = {kNone, kNone};  // "*.<this node>"
    std::uint32_t block_star = kNone;
    std::uint32_t globs = kNone;  // index into globs_
  };
  struct Glob {
    std::string prefix;  // the pattern left of the literal suffix, without the joining dot
    std::uint32_t rule;
    std::uint8_t protocols;
    bool block;
  };
  // One slot of the edge hash table: (parent node, label) -> child node. The slot is chosen
  // by the hash of the whole suffix the edge ends (not of the parent's id), so a lookup knows
  // every level's slot up front. Labels of up to 8 bytes are stored inline, so a probe
  // usually touches a single cache line.
  struct Edge {
    std::uint32_t hash;
    std::uint32_t parent;
    std::uint32_t child;  // kNone: empty slot
    std::uint32_t label_size;
    std::uint64_t label;  // inline bytes (size <= 8) or offset into labels_
  };

  std::uint32_t path_node(std::string_view name);
  std::uint32_t find_child(std::uint32_t parent, std::string_view label, std::uint64_t word,
                           std::uint32_t hash) const noexcept;
  void insert_edge(const Edge& e);
  void grow(std::size_t slots);
  Node& node_for_rules(std::uint32_t index);

  std::vector<Node> nodes_;
  std::vector<std::uint64_t> has_rules_;  // bit per node: only those nodes are read in match()
  std::vector<std::vector<Glob>> globs_;
  std::vector<Edge> edges_;  // open addressing, linear probing, power-of-two size
  std::size_t edge_count_ = 0;
  std::string labels_;  // arena for labels longer than 8 bytes
};

}  // namespace awf::policy::detail
