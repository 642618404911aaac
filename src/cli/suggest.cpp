#include "cli/suggest.h"

#include <algorithm>

namespace awf::cli {
namespace {

const std::vector<std::string>& subcommands() {
  static const std::vector<std::string> names{"logs", "policy", "completion", "man", "predownload"};
  return names;
}

std::size_t allowed_edits(std::string_view word) {
  return word.size() <= 4 ? 1 : 2;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table suffice for the swap rule.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = allowed_edits(word) + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<std::string> mistyped_subcommand(const std::vector<std::string>& args) {
  if (args.empty()) return std::nullopt;
  const std::string& word = args.front();
  if (word == "completion") {
    static const std::vector<std::string> shells{"bash", "zsh", "fish"};
    const std::string shell = args.size() > 1 ? args[1] : "";
    const bool known = std::find(shells.begin(), shells.end(), shell) != shells.end();
    if (args.size() == 2 && known) return std::nullopt;
    if (known) return "awf completion takes one shell and nothing after it: awf completion " + shell;
    const std::optional<std::string> guess = closest(shell, shells);
    return "awf completion takes one shell: bash, zsh or fish" +
           (guess ? " (did you mean 'awf completion " + *guess + "'?)" : std::string());
  }
  // A path, a shell command line or a word that is a subcommand is never a typo.
  if (word.empty() || word.starts_with('-') || word.find_first_of("/ \t=") != std::string::npos ||
      std::find(subcommands().begin(), subcommands().end(), word) != subcommands().end()) {
    return std::nullopt;
  }
  for (const std::string& name : subcommands()) {
    if (word.size() > name.size() + 1 && word.starts_with(name) &&
        (word[name.size()] == '-' || word[name.size()] == '_')) {
      return "'" + word + "' is not an awf subcommand (did you mean 'awf " + name + " " +
             word.substr(name.size() + 1) + "'?); to run a program of that name, write awf -- " +
             word;
    }
  }
  if (const std::optional<std::string> guess = closest(word, subcommands())) {
    return "'" + word + "' is not an awf subcommand (did you mean 'awf " + *guess +
           "'?); to run a program of that name, write awf -- " + word;
  }
  return std::nullopt;
}

}  // namespace awf::cli
