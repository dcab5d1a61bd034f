#pragma once
// A component's configuration keys, declared once: name, type, default, allowed values, group
// and documentation, as Kafka's ConfigDef holds them. Parsing reads defaults and ranges from
// this table, `PUT /connector-plugins/{plugin}/config/validate` describes every key from it,
// and docs/configuration.md's key tables are printed from it (`starpipe config-reference`; a
// unit test fails when the document and the table differ).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conf/config_errors.h"

namespace starpipe::conf {

// Kafka's ConfigDef.Type names, as config/validate reports them.
enum class key_type { boolean, string, int_, long_, list, class_, password };
enum class key_importance { high, medium, low };

const char* type_name(key_type t);
const char* importance_name(key_importance i);

struct key_def {
  std::string name;   // the key, or a prefix ending in '.' when `prefix` is set
  key_type type = key_type::string;
  std::optional<std::string> default_value; // as text; none: no default
  bool required = false;
  bool allow_empty = false; // a required key that may be given empty (starrocks.password)
  bool prefix = false;      // `name` is a prefix: every key under it belongs to this entry
  std::optional<int64_t> min, max;
  std::vector<std::string> choices; // allowed values, compared case-insensitively
  std::string values_doc;           // the allowed values in words, when not min/max or choices
  key_importance importance = key_importance::medium;
  std::string group;
  std::string doc;
  // Another spelling of `alias_of` (the StarRocks Flink connector's): either may be given,
  // not both with different values. Its own range applies when it is the one given.
  std::string alias_of;
  // Shown in documentation only: a note that the reference page should carry but the REST
  // description need not (where the value comes from, what starpipe sets itself).
  std::string note;
  // Why a value other than the default changes nothing in starpipe (a Kafka Connect key kept
  // so that existing files load). Such a value is accepted with a warning that says why.
  std::string no_effect;

  key_def& without_effect(std::string why) { no_effect = std::move(why); return *this; }
  key_def& with_group(std::string g) { group = std::move(g); return *this; }
  key_def& with_importance(key_importance i) { importance = i; return *this; }
  key_def& alias(std::string of) { alias_of = std::move(of); return *this; }
  key_def& values(std::string text) { values_doc = std::move(text); return *this; }
  key_def& may_be_empty() { allow_empty = true; return *this; }
  key_def& with_note(std::string n) { note = std::move(n); return *this; }

  // The allowed values as the reference shows them: the range, the choices or values_doc.
  std::string allowed() const;
};

// Builders for the common shapes.
key_def long_key(std::string name, int64_t def, int64_t min, int64_t max, std::string doc);
key_def int_key(std::string name, int64_t def, int64_t min, int64_t max, std::string doc);
key_def bool_key(std::string name, bool def, std::string doc);
key_def string_key(std::string name, std::optional<std::string> def, std::string doc);
key_def required_key(std::string name, std::string doc, key_type type = key_type::string);
key_def choice_key(std::string name, std::string def, std::vector<std::string> choices, std::string doc);
key_def prefix_key(std::string prefix, std::string doc);

class config_def {
public:
  explicit config_def(std::string component) : component_(std::move(component)) {}
  config_def& define(key_def d);

  const std::string& component() const { return component_; }
  const std::vector<key_def>& keys() const { return keys_; }
  // The entry a key belongs to: its own, or the longest declared prefix it starts with.
  const key_def* find(const std::string& key) const;
  // Group names in the order they were first declared.
  std::vector<std::string> groups() const;

  // Typed reads. The key must be declared (a programming error throws std::logic_error), a
  // missing key gives the table's default, a bad value adds an error naming the range.
  int64_t read_long(const properties& p, const std::string& key, config_errors& errs) const;
  bool read_bool(const properties& p, const std::string& key, config_errors& errs) const;
  std::string read_string(const properties& p, const std::string& key) const;
  // One of the key's choices, spelled as declared (the match is case-insensitive).
  std::string read_choice(const properties& p, const std::string& key, config_errors& errs) const;
  // A required key: "is required (You must specify ...)" when missing, as Kafka Connect says.
  std::optional<std::string> read_required(const properties& p, const std::string& key, config_errors& errs) const;

  // Given keys neither declared nor under a declared prefix, in file order.
  std::vector<std::string> undeclared(const properties& p) const;
  // The given keys under `prefix` (a plugin's own keys, e.g. "value.converter."), each checked
  // against this table by the name after the prefix: its value by type, range and choices,
  // errors against the full key. Returns the full keys this table does not declare.
  std::vector<std::string> check_prefixed(const properties& p, const std::string& prefix, config_errors& errs) const;
  // One warning per given key whose value has no effect (key_def::no_effect), in file order.
  // With a prefix, only the keys under it, looked up by the name after it.
  std::vector<std::string> without_effect(const properties& p, const std::string& prefix = "") const;

  // A Markdown table of every key (| key | type | default | values | description |).
  std::string markdown() const;

private:
  const key_def& declared(const std::string& key) const;
  // The key actually given among `key` and its aliases; errors when two of them disagree.
  std::string given_spelling(const properties& p, const std::string& key, config_errors& errs) const;

  std::string component_;
  std::vector<key_def> keys_;
};

} // namespace starpipe::conf
