// The generated completions: every visible flag of the table, each shell's value completion,
// and no hidden (deprecated) spelling. Shell syntax and behaviour are checked by the real
// shells in tests/integration/test_completion.py.
#include <CLI/CLI.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "cli/options.h"

namespace awf::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// WORD appears in TEXT followed by one of AFTER (so --env does not match --env-all).
bool has_word(const std::string& text, const std::string& word, std::string_view after) {
  for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const std::size_t end = at + word.size();
    if (end < text.size() && after.find(text[end]) != std::string_view::npos) return true;
  }
  return false;
}

TEST(FlagDocs, EveryVisibleFlagIsInEveryCompletion) {
  const std::unique_ptr<CLI::App> app = describe_options();
  const std::string bash = bash_completion(), zsh = zsh_completion(), fish = fish_completion();
  int visible = 0, hidden_names = 0;
  for (const CLI::Option* option : app->get_options()) {
    const bool hidden = option->get_group().empty();
    for (const std::string& name : option->get_lnames()) {
      (hidden ? hidden_names : visible) += 1;
      EXPECT_EQ(has_word(bash, " --" + name, " '|)"), !hidden) << name;
      EXPECT_EQ(has_word(zsh, "--" + name, "'=,} "), !hidden) << name;
      EXPECT_EQ(has_word(fish, " -l " + name, " \n"), !hidden) << name;
    }
  }
  EXPECT_GT(visible, 80);
  EXPECT_GT(hidden_names, 0) << "AWF's deprecated spellings: none left to prove they are hidden";
}

TEST(FlagDocs, ZshSpecsCarryValuesAndRepetition) {
  const std::string zsh = zsh_completion();
  EXPECT_THAT(zsh, HasSubstr("#compdef awf\n"));
  // A repeatable option may come again; its short and long spellings share one spec.
  EXPECT_THAT(zsh, HasSubstr("'*'{-d,--allow-domains=}'[Comma-separated domains the command may "
                             "reach]:LIST: '"));
  // A single option excludes itself once given; a closed set is offered as such.
  EXPECT_THAT(zsh, HasSubstr("'(--log-level)'--log-level='[awf'\\''s own messages: debug, info, "
                             "warn, error]:LEVEL:(debug info warn error)'"));
  EXPECT_THAT(zsh, HasSubstr("--container-workdir=")) << "a directory option";
  EXPECT_THAT(zsh, HasSubstr(":DIR:_files -/'"));
  // The colon inside a value's name is escaped, or zsh would read it as the action.
  EXPECT_THAT(zsh, HasSubstr(":HOST\\:CONTAINER[\\:ro|rw]:_files'"));
  // An optional value: "::".
  EXPECT_THAT(zsh, HasSubstr("--dns-over-https=")) << zsh;
  EXPECT_THAT(zsh, HasSubstr("::[URL]: '"));
  // A flag takes nothing: no '=' and no value part.
  EXPECT_THAT(zsh, HasSubstr("'(--ssl-bump)'--ssl-bump'[Intercept TLS"));
  EXPECT_THAT(zsh, HasSubstr("(logs policy completion man predownload)"));
  EXPECT_THAT(zsh, HasSubstr("_arguments -S : $specs '*::command:_awf_command'"));
}

TEST(FlagDocs, FishLinesCarryValues) {
  const std::string fish = fish_completion();
  EXPECT_THAT(fish, HasSubstr("complete -c awf -n 'not __awf_command_started' -s d "
                              "-l allow-domains -x -d 'Comma-separated domains the command may "
                              "reach'\n"));
  EXPECT_THAT(fish, HasSubstr("-l log-level -x -a 'debug info warn error' -d 'awf\\'s own "
                              "messages: debug, info, warn, error'\n"));
  EXPECT_THAT(fish, HasSubstr("-l config -r -F -d"));
  EXPECT_THAT(fish, HasSubstr("-l container-workdir -x -a '(__fish_complete_directories"));
  EXPECT_THAT(fish, HasSubstr("-l dns-over-https -f -d"));
  EXPECT_THAT(fish, HasSubstr("-l ssl-bump -d 'Intercept TLS"));
  EXPECT_THAT(fish, HasSubstr("-f -a 'logs policy completion man predownload'\n"));
  EXPECT_THAT(fish, Not(HasSubstr("(repeatable)")));
}

TEST(FlagDocs, BashOffersClosedSets) {
  const std::string bash = bash_completion();
  EXPECT_THAT(bash, HasSubstr("    --log-level) COMPREPLY=($(compgen -W 'debug info warn error' "
                              "-- \"$cur\")); return ;;\n"));
  EXPECT_THAT(bash, HasSubstr("    --container-runtime) COMPREPLY=($(compgen -W 'docker gvisor "
                              "sbx' -- \"$cur\")); return ;;\n"));
}

}  // namespace
}  // namespace awf::cli
