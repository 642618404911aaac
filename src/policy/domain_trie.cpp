#include "policy/domain_trie.h"

#include <bit>
#include <cstring>

#include "policy/domain_pattern.h"

namespace awf::policy::detail {
namespace {

inline std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  return x;
}

// The first min(8, size) bytes of name[start, end), zero padded (as if memcpy'd into a zeroed
// word). When the label ends at least 8 bytes into the name, one fixed 8-byte load ending at the
// label's end plus a shift replaces a variable-length copy.
inline std::uint64_t label_word(std::string_view name, std::size_t start,
                                std::size_t end) noexcept {
  const std::size_t n = end - start;
  std::uint64_t w = 0;
  if (n >= 8) {
    std::memcpy(&w, name.data() + start, 8);
    return w;
  }
  if constexpr (std::endian::native == std::endian::little) {
    if (n > 0 && end >= 8) {
      std::memcpy(&w, name.data() + end - 8, 8);
      return w >> (8 * (8 - n));
    }
  }
  std::memcpy(&w, name.data() + start, n);
  return w;
}

// The hash of a suffix ("example.com", then "www.example.com") from the hash of the suffix one
// label shorter and the new label: it does not depend on node ids, so a lookup can compute
// the slots of every level before it has found any of them, and fetch them in parallel.
constexpr std::uint64_t kRootHash = 0x9e3779b97f4a7c15ull;

inline std::uint64_t suffix_hash(std::uint64_t shorter, std::string_view label,
                                 std::uint64_t head) noexcept {
  std::uint64_t h = mix(shorter ^ (static_cast<std::uint64_t>(label.size()) << 56) ^ head);
  for (std::size_t i = 8; i < label.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, label.data() + i, label.size() - i < 8 ? label.size() - i : 8);
    h = mix(h ^ w);
  }
  return h;
}

// The labels of a normalized host, right to left, each with its inline word and the hash of
// the suffix it ends.
struct Label {
  std::size_t start = 0;
  std::size_t end = 0;
  std::uint64_t word = 0;
  std::uint64_t hash = kRootHash;
  std::string_view text(std::string_view host) const { return host.substr(start, end - start); }
};

class LabelWalk {
 public:
  explicit LabelWalk(std::string_view host) : host_(host), end_(host.size()) {}
  bool next(Label& label) {
    if (done_ || end_ == 0) return false;
    std::size_t start = end_;
    while (start > 0 && host_[start - 1] != '.') --start;
    label.word = label_word(host_, start, end_);
    label.hash = suffix_hash(hash_, host_.substr(start, end_ - start), label.word);
    label.start = start;
    label.end = end_;
    hash_ = label.hash;
    if (start == 0) {
      done_ = true;
    } else {
      end_ = start - 1;
    }
    return true;
  }

 private:
  std::string_view host_;
  std::size_t end_;
  std::uint64_t hash_ = kRootHash;
  bool done_ = false;
};

inline void set_protocols(std::uint32_t (&slots)[2], std::uint8_t protocols, std::uint32_t rule) {
  if ((protocols & kProtoHttp) && slots[0] == DomainTrie::kNone) slots[0] = rule;
  if ((protocols & kProtoHttps) && slots[1] == DomainTrie::kNone) slots[1] = rule;
}

inline void take(std::uint32_t (&match)[2], const std::uint32_t (&slots)[2]) {
  if (slots[0] != DomainTrie::kNone) match[0] = slots[0];
  if (slots[1] != DomainTrie::kNone) match[1] = slots[1];
}

constexpr DomainTrie::Match kEmptyMatch{};

}  // namespace

DomainTrie::DomainTrie() : nodes_(1), has_rules_(1, 0) {
  edges_.assign(16, Edge{0, 0, kNone, 0, 0});
}

void DomainTrie::reserve(std::size_t labels) {
  std::size_t slots = edges_.size();
  while (labels * 5 > slots * 3) slots *= 2;
  if (slots != edges_.size()) grow(slots);
  nodes_.reserve(labels + 1);
  has_rules_.reserve(labels / 64 + 1);
}

std::uint32_t DomainTrie::find_child(std::uint32_t parent, std::string_view label,
                                     std::uint64_t word, std::uint32_t hash) const noexcept {
  const std::size_t mask = edges_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Edge& e = edges_[i];
    if (e.child == kNone) return kNone;
    if (e.hash != hash || e.parent != parent || e.label_size != label.size()) continue;
    if (label.size() <= 8) {
      if (e.label == word) return e.child;
    } else if (std::memcmp(labels_.data() + e.label, label.data(), label.size()) == 0) {
      return e.child;
    }
  }
}

void DomainTrie::insert_edge(const Edge& e) {
  const std::size_t mask = edges_.size() - 1;
  std::size_t i = e.hash & mask;
  while (edges_[i].child != kNone) i = (i + 1) & mask;
  edges_[i] = e;
}

void DomainTrie::grow(std::size_t slots) {
  std::vector<Edge> old(slots, Edge{0, 0, kNone, 0, 0});
  old.swap(edges_);
  for (const Edge& e : old) {
    if (e.child != kNone) insert_edge(e);
  }
}

std::uint32_t DomainTrie::path_node(std::string_view name) {
  std::uint32_t node = 0;
  LabelWalk walk(name);
  for (Label l; walk.next(l);) {
    const std::string_view label = l.text(name);
    const auto hash = static_cast<std::uint32_t>(l.hash);
    std::uint32_t child = find_child(node, label, l.word, hash);
    if (child == kNone) {
      if ((edge_count_ + 1) * 5 > edges_.size() * 3) grow(edges_.size() * 2);
      child = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();
      if (has_rules_.size() * 64 < nodes_.size()) has_rules_.push_back(0);
      std::uint64_t stored = l.word;
      if (label.size() > 8) {
        stored = labels_.size();
        labels_.append(label);
      }
      insert_edge(Edge{hash, node, child, static_cast<std::uint32_t>(label.size()), stored});
      ++edge_count_;
    }
    node = child;
  }
  return node;
}

DomainTrie::Node& DomainTrie::node_for_rules(std::uint32_t index) {
  has_rules_[index / 64] |= std::uint64_t{1} << (index % 64);
  return nodes_[index];
}

void DomainTrie::add_name(std::string_view name, std::uint32_t rule, std::uint8_t protocols,
                          bool block) {
  Node& node = node_for_rules(path_node(name));
  if (block) {
    if (node.block_name == kNone) node.block_name = rule;
  } else {
    set_protocols(node.allow_name, protocols, rule);
  }
}

void DomainTrie::add_exact(std::string_view name, std::uint32_t rule, std::uint8_t protocols) {
  set_protocols(node_for_rules(path_node(name)).allow_exact, protocols, rule);
}

void DomainTrie::add_wildcard(std::string_view pattern, std::size_t suffix_start,
                              std::uint32_t rule, std::uint8_t protocols, bool block) {
  Node& node = node_for_rules(path_node(pattern.substr(suffix_start)));
  const std::string_view prefix = pattern.substr(0, suffix_start - 1);
  if (prefix.find_first_not_of('*') == std::string_view::npos) {
    // "*.suffix": any non-empty left part matches; no glob needed.
    if (block) {
      if (node.block_star == kNone) node.block_star = rule;
    } else {
      set_protocols(node.allow_star, protocols, rule);
    }
    return;
  }
  if (node.globs == kNone) {
    node.globs = static_cast<std::uint32_t>(globs_.size());
    globs_.emplace_back();
  }
  globs_[node.globs].push_back(Glob{std::string(prefix), rule, protocols, block});
}

DomainTrie::Match DomainTrie::match(std::string_view host) const noexcept {
  // The hashes of the first labels are known before any node is: their slots are fetched
  // together, instead of one cache miss after the other as the walk goes down the levels.
  constexpr std::size_t kAhead = 8;
  Label ahead[kAhead];
  std::size_t known = 0;
  LabelWalk walk(host);
  while (known < kAhead && walk.next(ahead[known])) {
    __builtin_prefetch(&edges_[ahead[known].hash & (edges_.size() - 1)]);
    ++known;
  }
  Match m = kEmptyMatch;
  std::uint32_t node = 0;
  for (std::size_t level = 0;; ++level) {
    Label l;
    if (level < known) {
      l = ahead[level];
    } else if (known < kAhead || !walk.next(l)) {
      break;
    }
    const std::string_view label = l.text(host);
    node = find_child(node, label, l.word, static_cast<std::uint32_t>(l.hash));
    if (node == kNone) break;
    if (has_rules_[node / 64] & (std::uint64_t{1} << (node % 64))) {
      const Node& n = nodes_[node];
      if (n.block_name != kNone) {
        m.block = n.block_name;
        return m;
      }
      if (l.start > 0) {
        const std::string_view rest = host.substr(0, l.start - 1);
        if (n.block_star != kNone) {
          m.block = n.block_star;
          return m;
        }
        if (n.globs != kNone) {
          for (const Glob& g : globs_[n.globs]) {
            if (!glob_match(g.prefix, rest)) continue;
            if (g.block) {
              m.block = g.rule;
              return m;
            }
            if (g.protocols & kProtoHttp) m.allow[0] = g.rule;
            if (g.protocols & kProtoHttps) m.allow[1] = g.rule;
          }
        }
        take(m.allow, n.allow_star);
      }
      take(m.allow, n.allow_name);
      if (l.start == 0) take(m.allow, n.allow_exact);
    }
  }
  return m;
}

}  // namespace awf::policy::detail
