#include "conf/config_def.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace starpipe::conf {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string joined(const std::vector<std::string>& v, const std::string& last_sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i == 0 ? "" : i + 1 == v.size() ? last_sep : ", ") + v[i];
  return out;
}

// Markdown table cells: a '|' would end the cell; outside a code span '<name>' would read as an
// HTML tag and 'ssl.* ... consumer.*' as emphasis.
std::string cell(const std::string& s, bool code = false) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else if (!code && (c == '<' || c == '>' || c == '*')) out += std::string("\\") + c;
    else out += c;
  }
  return out;
}

std::string number(int64_t v) {
  if (v == INT64_MAX) return "2^63-1";
  return std::to_string(v);
}

} // namespace

const char* type_name(key_type t) {
  switch (t) {
  case key_type::boolean: return "BOOLEAN";
  case key_type::string: return "STRING";
  case key_type::int_: return "INT";
  case key_type::long_: return "LONG";
  case key_type::list: return "LIST";
  case key_type::class_: return "CLASS";
  case key_type::password: return "PASSWORD";
  }
  return "STRING";
}

const char* importance_name(key_importance i) {
  switch (i) {
  case key_importance::high: return "HIGH";
  case key_importance::medium: return "MEDIUM";
  case key_importance::low: return "LOW";
  }
  return "MEDIUM";
}

std::string key_def::allowed() const {
  if (!values_doc.empty()) return values_doc;
  if (!choices.empty()) return joined(choices, ", ");
  if (min && max) return number(*min) + " – " + number(*max);
  if (min) return "≥ " + number(*min);
  if (type == key_type::boolean) return "true, false";
  return "";
}

key_def long_key(std::string name, int64_t def, int64_t min, int64_t max, std::string doc) {
  key_def d;
  d.name = std::move(name);
  d.type = key_type::long_;
  d.default_value = std::to_string(def);
  d.min = min;
  d.max = max;
  d.doc = std::move(doc);
  return d;
}

key_def int_key(std::string name, int64_t def, int64_t min, int64_t max, std::string doc) {
  key_def d = long_key(std::move(name), def, min, max, std::move(doc));
  d.type = key_type::int_;
  return d;
}

key_def bool_key(std::string name, bool def, std::string doc) {
  key_def d;
  d.name = std::move(name);
  d.type = key_type::boolean;
  d.default_value = def ? "true" : "false";
  d.doc = std::move(doc);
  return d;
}

key_def string_key(std::string name, std::optional<std::string> def, std::string doc) {
  key_def d;
  d.name = std::move(name);
  d.default_value = std::move(def);
  d.doc = std::move(doc);
  return d;
}

key_def required_key(std::string name, std::string doc, key_type type) {
  key_def d;
  d.name = std::move(name);
  d.type = type;
  d.required = true;
  d.importance = key_importance::high;
  d.doc = std::move(doc);
  return d;
}

key_def choice_key(std::string name, std::string def, std::vector<std::string> choices, std::string doc) {
  key_def d;
  d.name = std::move(name);
  d.default_value = std::move(def);
  d.choices = std::move(choices);
  d.doc = std::move(doc);
  return d;
}

key_def prefix_key(std::string prefix, std::string doc) {
  key_def d;
  d.name = std::move(prefix);
  d.prefix = true;
  d.doc = std::move(doc);
  return d;
}

config_def& config_def::define(key_def d) {
  for (const auto& k : keys_)
    if (k.name == d.name) throw std::logic_error(component_ + ": key " + d.name + " is declared twice");
  if (!d.alias_of.empty() && !find(d.alias_of))
    throw std::logic_error(component_ + ": " + d.name + " is an alias of undeclared " + d.alias_of);
  keys_.push_back(std::move(d));
  return *this;
}

const key_def* config_def::find(const std::string& key) const {
  const key_def* best = nullptr;
  for (const auto& k : keys_) {
    if (!k.prefix && k.name == key) return &k;
    if (k.prefix && key.compare(0, k.name.size(), k.name) == 0 && (!best || k.name.size() > best->name.size()))
      best = &k;
  }
  return best;
}

std::vector<std::string> config_def::groups() const {
  std::vector<std::string> out;
  for (const auto& k : keys_)
    if (!k.group.empty() && std::find(out.begin(), out.end(), k.group) == out.end()) out.push_back(k.group);
  return out;
}

const key_def& config_def::declared(const std::string& key) const {
  for (const auto& k : keys_)
    if (!k.prefix && k.name == key) return k;
  throw std::logic_error(component_ + ": key " + key + " is read but not declared in its key table");
}

std::string config_def::given_spelling(const properties& p, const std::string& key, config_errors& errs) const {
  std::string given = key;
  for (const auto& k : keys_) {
    if (k.alias_of != key || !p.has(k.name)) continue;
    if (p.has(key) && conf::read_string(p, key, "") != conf::read_string(p, k.name, "")) {
      errs.add(p, k.name, "conflicts with " + key + " (" + conf::read_string(p, key, "") + "); set only one of them");
      return key;
    }
    given = k.name;
  }
  return given;
}

int64_t config_def::read_long(const properties& p, const std::string& key, config_errors& errs) const {
  const key_def& main = declared(key);
  const key_def& d = declared(given_spelling(p, key, errs));
  int64_t def = main.default_value ? std::stoll(*main.default_value) : 0;
  return conf::read_long(p, d.name, def, d.min.value_or(INT64_MIN), d.max.value_or(INT64_MAX), errs);
}

bool config_def::read_bool(const properties& p, const std::string& key, config_errors& errs) const {
  const key_def& d = declared(given_spelling(p, key, errs));
  return conf::read_bool(p, d.name, declared(key).default_value.value_or("false") == "true", errs);
}

std::string config_def::read_string(const properties& p, const std::string& key) const {
  const key_def& d = declared(key);
  return conf::read_string(p, key, d.default_value.value_or(""));
}

std::string config_def::read_choice(const properties& p, const std::string& key, config_errors& errs) const {
  const key_def& d = declared(key);
  std::string def = d.default_value.value_or("");
  if (!p.has(key)) return def;
  std::string given = lower(conf::read_string(p, key, ""));
  for (const auto& c : d.choices)
    if (lower(c) == given) return c;
  errs.add(p, key, "must be " + joined(d.choices, " or "));
  return def;
}

std::optional<std::string> config_def::read_required(const properties& p, const std::string& key,
                                                     config_errors& errs) const {
  const key_def& d = declared(key);
  return conf::read_required(p, key, d.allow_empty, errs);
}

std::vector<std::string> config_def::undeclared(const properties& p) const {
  std::vector<std::string> out;
  for (const auto& e : p.entries())
    if (!find(e.key)) out.push_back(e.key);
  return out;
}

std::vector<std::string> config_def::check_prefixed(const properties& p, const std::string& prefix,
                                                    config_errors& errs) const {
  std::vector<std::string> unknown;
  for (const auto& e : p.entries()) {
    if (e.key.size() <= prefix.size() || e.key.compare(0, prefix.size(), prefix) != 0) continue;
    const key_def* d = find(e.key.substr(prefix.size()));
    if (!d) {
      unknown.push_back(e.key);
      continue;
    }
    if (d->type == key_type::boolean) {
      conf::read_bool(p, e.key, false, errs);
    } else if (d->type == key_type::int_ || d->type == key_type::long_) {
      conf::read_long(p, e.key, 0, d->min.value_or(INT64_MIN), d->max.value_or(INT64_MAX), errs);
    } else if (!d->choices.empty()) {
      std::string given = lower(conf::read_string(p, e.key, ""));
      bool ok = false;
      for (const auto& c : d->choices) ok = ok || lower(c) == given;
      if (!ok) errs.add(p, e.key, "must be " + joined(d->choices, " or "));
    }
  }
  return unknown;
}

std::vector<std::string> config_def::without_effect(const properties& p, const std::string& prefix) const {
  std::vector<std::string> out;
  for (const auto& e : p.entries()) {
    if (e.key.compare(0, prefix.size(), prefix) != 0) continue;
    const key_def* d = find(e.key.substr(prefix.size()));
    if (!d || d->no_effect.empty()) continue;
    std::string v = conf::read_string(p, e.key, "");
    if (d->default_value && lower(v) == lower(*d->default_value)) continue;
    out.push_back(p.source + ": " + e.key + "=" + (is_secret_key(e.key) ? "[hidden]" : v) +
                  " is accepted and has no effect: " + d->no_effect);
  }
  return out;
}

std::string config_def::markdown() const {
  std::string out = "| key | type | default | values | description |\n|---|---|---|---|---|\n";
  for (const auto& k : keys_) {
    std::string name = k.prefix ? "`" + k.name + "<name>`" : "`" + k.name + "`";
    std::string def = k.required ? (k.allow_empty ? "required (may be empty)" : "required")
                      : k.default_value ? (k.default_value->empty() ? "\"\"" : "`" + *k.default_value + "`")
                                        : "–";
    std::string doc = k.doc;
    if (!k.alias_of.empty()) doc = "the Flink connector's name for `" + k.alias_of + "`" + (doc.empty() ? "" : "; " + doc);
    if (!k.note.empty()) doc += (doc.empty() ? "" : " ") + k.note;
    if (!k.no_effect.empty()) doc += std::string(doc.empty() ? "" : " ") + "No effect in starpipe: " + k.no_effect + ".";
    out += "| " + cell(name, true) + " | " + type_name(k.type) + " | " + cell(def) + " | " + cell(k.allowed()) + " | " +
           cell(doc) + " |\n";
  }
  return out;
}

} // namespace starpipe::conf
