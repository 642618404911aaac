#include "cli/config_words.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/awf_config.h"
#include "cli/config_file.h"
#include "cli/flag_table.h"

namespace awf::cli {
namespace {

std::string read_config_text(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--config '" + path + "': cannot read the file");
  text << in.rdbuf();
  return text.str();
}

// Words for a config setting that the command line does not override.
void setting_words(const ConfigSetting& setting, const CLI::Option& option,
                   std::vector<std::string>& words) {
  const std::string flag = "--" + setting.flag;
  const std::string name = setting.origin.empty() ? "'" + setting.flag + "'" : setting.origin;
  if (option.get_expected_max() == 0) {  // a switch
    for (const std::string& value : setting.values) {
      if (value == "true") {
        words.push_back(flag);
      } else if (value != "false") {
        throw UsageError(name + " must be true or false");
      }
    }
    return;
  }
  for (const std::string& value : setting.values) {
    words.push_back(flag);
    words.push_back(value);
  }
}

}  // namespace

std::vector<std::string> config_words(const std::string& path, const CLI::App& given,
                                      Origins& origins, Options& options) {
  AwfConfig config;
  try {
    config = load_config(read_config_text(path), config_syntax(path));
  } catch (const std::invalid_argument& error) {
    throw UsageError("--config '" + path + "': " + error.what());
  }
  std::vector<std::string> words;
  for (const ConfigSetting& setting : config.settings) {
    const CLI::Option* option = nullptr;
    try {
      option = given.get_option("--" + setting.flag);
    } catch (const CLI::OptionNotFound&) {
    }
    if (!option || setting.flag == "config" || setting.flag == "help" ||
        setting.flag == "version") {
      throw UsageError("--config '" + path + "': unknown key '" + setting.flag + "'");
    }
    if (option->count() > 0) continue;  // the command line wins
    try {
      setting_words(setting, *option, words);
    } catch (const UsageError& error) {
      throw UsageError("--config '" + path + "': " + error.what());
    }
    if (!setting.origin.empty()) origins[long_name(*option)] = setting.origin;
  }
  options.notices = std::move(config.notices);
  options.pending.api_proxy_config = std::move(config.api_proxy_json);
  return words;
}

}  // namespace awf::cli
