#include "conf/config_providers.h"

#include <cstdlib>
#include <regex>

namespace starpipe::conf {

namespace {
const std::string file_provider = "org.apache.kafka.common.config.provider.FileConfigProvider";
const std::string env_provider = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
} // namespace

config_providers read_config_providers(const properties& worker, config_errors& errs) {
  config_providers out;
  for (const auto& alias : split_list(worker.get("config.providers").value_or(""))) {
    std::string key = "config.providers." + alias + ".class";
    std::string cls = read_string(worker, key, "");
    if (cls != file_provider && cls != env_provider) {
      errs.add({worker.source, key, cls, "must be " + file_provider + " or " + env_provider});
      continue;
    }
    out.classes[alias] = cls;
  }
  return out;
}

properties resolve_config(const properties& p, const config_providers& providers, config_errors& errs) {
  if (providers.classes.empty()) return p;
  static const std::regex ref(R"(\$\{([A-Za-z0-9_.-]+):(?:([^:}]*):)?([^}]*)\})");
  properties out;
  out.source = p.source;
  for (const auto& e : p.entries()) {
    std::string value, problem;
    auto begin = std::sregex_iterator(e.value.begin(), e.value.end(), ref);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      const auto& m = *it;
      value += e.value.substr(last, static_cast<size_t>(m.position()) - last);
      last = static_cast<size_t>(m.position() + m.length());
      auto provider = providers.classes.find(m[1]);
      if (provider == providers.classes.end()) { // not declared: left as written
        value += m.str();
        continue;
      }
      if (provider->second == env_provider) {
        std::string name = m[3];
        const char* v = std::getenv(name.c_str());
        if (!v) problem = "environment variable " + name + " (provider " + std::string(m[1]) + ") is not set";
        else value += v;
      } else {
        std::string path = m[2], key = m[3];
        try {
          auto file = load_properties_file(path);
          auto v = file.get(key);
          if (!v) problem = "key " + key + " not found in " + path + " (provider " + std::string(m[1]) + ")";
          else value += *v;
        } catch (const std::exception&) {
          problem = "cannot read " + path + " (provider " + std::string(m[1]) + ")";
        }
      }
    }
    value += e.value.substr(last);
    if (!problem.empty()) {
      std::string src = p.source + (e.line > 0 ? ":" + std::to_string(e.line) : "");
      errs.add({src, e.key, e.value, problem}); // shows the reference, never a resolved secret
      out.set(e.key, e.value, e.line);
      continue;
    }
    out.set(e.key, value, e.line);
  }
  return out;
}

} // namespace starpipe::conf
