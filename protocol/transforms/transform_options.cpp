// The options each transform and predicate class takes, declared once: the chain builder
// refuses what a class does not declare, and docs/configuration.md's "Transform options" are
// printed from these tables. Values are checked by each class's constructor, which names the
// alias and class; the tables hold only the checks no constructor makes.
#include "protocol/transforms/transform_options.h"

namespace starpipe::transforms {

namespace {

using conf::config_def;
using conf::key_def;
using conf::string_key;

// Kafka Connect 3.8's transforms and Debezium's accept it; starpipe's converters already put
// a field's default in place of a null, which is what true asks for.
key_def replace_null_with_default() {
  return conf::choice_key("replace.null.with.default", "true", {"true"},
                          "A null field takes its schema's default. Only true: the JsonConverter already gives "
                          "a null field its default, so false cannot be honoured and is refused.");
}

config_def make_table(std::string component, std::vector<key_def> keys) {
  config_def t(std::move(component));
  for (auto& k : keys) t.define(std::move(k));
  return t;
}

} // namespace

const conf::config_def& builtin_transform_options(const std::string& base_name) {
  static const std::map<std::string, config_def> tables = [] {
    std::map<std::string, config_def> m;
    m.emplace("ReplaceField",
              make_table("ReplaceField",
                         {string_key("exclude", "", "Fields to drop (a list)."),
                          string_key("include", "", "Fields to keep; all others are dropped (a list; empty: all)."),
                          string_key("renames", "", "Field renames, old:new[,old:new]."),
                          string_key("blacklist", "", "Older name of exclude."),
                          string_key("whitelist", "", "Older name of include."), replace_null_with_default()}));
    m.emplace("InsertField",
              make_table("InsertField",
                         {string_key("topic.field", "", "Field that receives the record's topic."),
                          string_key("partition.field", "", "Field that receives the record's partition."),
                          string_key("offset.field", "", "Field that receives the record's offset."),
                          string_key("timestamp.field", "", "Field that receives the record's timestamp."),
                          string_key("static.field", "", "Field that receives static.value."),
                          string_key("static.value", "", "The value of static.field."), replace_null_with_default()}));
    m.emplace("ValueToKey", make_table("ValueToKey", {conf::required_key("fields", "Value fields that make the key "
                                                                                   "(a list).", conf::key_type::list),
                                                      replace_null_with_default()}));
    auto field = conf::required_key("field", "The field to extract or to wrap the whole value in.");
    auto syntax = conf::choice_key("field.syntax.version", "V1", {"V1"},
                                   "How field names are read. Only V1 (a field name as written): V2's nested "
                                   "paths are not supported and refused.");
    m.emplace("ExtractField", make_table("ExtractField", {field, syntax, replace_null_with_default()}));
    m.emplace("HoistField", make_table("HoistField", {field, syntax, replace_null_with_default()}));
    m.emplace("Cast", make_table("Cast", {conf::required_key("spec",
                                                             "field:type[,field:type], or one type for the whole "
                                                             "value; types int8, int16, int32, int64, float32, "
                                                             "float64, boolean, string.",
                                                             conf::key_type::list),
                                          replace_null_with_default()}));
    m.emplace("RegexRouter",
              make_table("RegexRouter", {conf::required_key("regex", "Regular expression the whole topic must match."),
                                         string_key("replacement", "",
                                                    "The new topic; $1, $2, ... are the regex's groups.")}));
    m.emplace("Filter", make_table("Filter", {}));
    m.emplace("TimestampConverter",
              make_table("TimestampConverter",
                         {string_key("field", "", "The field to convert; empty: the whole value."),
                          conf::required_key("target.type", "string, unix, Date, Time or Timestamp."),
                          string_key("format", "", "SimpleDateFormat pattern; required for target.type=string."),
                          string_key("unix.precision", "milliseconds",
                                     "seconds, milliseconds, microseconds or nanoseconds."),
                          replace_null_with_default()}));
    return m;
  }();
  return tables.at(base_name);
}

const conf::config_def& extract_new_record_state_options() {
  static const config_def t = make_table(
      "ExtractNewRecordState",
      {string_key("delete.tombstone.handling.mode", std::nullopt,
                  "drop, tombstone, rewrite, rewrite-with-tombstone or delete-to-tombstone (Debezium 2.5+)."),
       string_key("drop.tombstones", "true", "Legacy (Debezium < 2.5): true or false."),
       string_key("delete.handling.mode", "drop", "Legacy (Debezium < 2.5): drop, none or rewrite."),
       string_key("add.fields", "", "Envelope fields added to the row as __<name> (op, source.ts_ms, ...)."),
       string_key("add.fields.prefix", "__", "Prefix of add.fields."),
       string_key("add.headers", "", "Envelope fields added as headers."),
       string_key("add.headers.prefix", "__", "Prefix of add.headers."),
       string_key("route.by.field", "", "A row field whose value becomes the topic."),
       string_key("drop.fields.header.name", "", "Not supported yet: refused."),
       string_key("drop.fields.from.key", "", "Not supported yet: refused."),
       string_key("drop.fields.keep.schema.compatible", "", "Not supported yet: refused."),
       replace_null_with_default()});
  return t;
}

const conf::config_def& no_options() {
  static const config_def t("no options");
  return t;
}

const conf::config_def& predicate_options(const std::string& base_name) {
  static const std::map<std::string, config_def> tables = [] {
    std::map<std::string, config_def> m;
    m.emplace("TopicNameMatches",
              make_table("TopicNameMatches",
                         {conf::required_key("pattern", "Regular expression the whole topic must match.")}));
    m.emplace("HasHeaderKey",
              make_table("HasHeaderKey", {conf::required_key("name", "The header key to look for.")}));
    m.emplace("RecordIsTombstone", make_table("RecordIsTombstone", {}));
    return m;
  }();
  return tables.at(base_name);
}

void check_options(const conf::config_def& table, const std::map<std::string, std::string>& options,
                   const std::string& source, const std::string& key_prefix, const std::string& context,
                   conf::config_errors& errs) {
  conf::properties given;
  given.source = source;
  for (const auto& [k, v] : options) given.set(key_prefix + k, v);
  for (const auto& key : table.check_prefixed(given, key_prefix, errs))
    errs.add({source, key, given.get(key).value_or(""), "unknown option (" + context + ")"});
}

} // namespace starpipe::transforms
