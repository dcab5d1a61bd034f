#pragma once
// Turns a Stream Load body into table rows as StarRocks does (docs/reference/starrocks-protocol.md
// sections 2.3, 5, 6): CSV and JSON, `columns`, `__op`, strict_mode, NULL rules, filtered
// rows with reasons, max_filter_ratio. All rows of a load apply together or not at all.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/starrocks_emulator/catalog.h"

namespace emulator {

struct column_mapping {
  std::string target;      // table column or __op
  std::string source;      // source field name, or "" for a constant
  std::string constant;    // when source is empty
  std::string function;    // to_bitmap, hll_hash, bitmap_empty, hll_empty applied to source
};

struct load_options {
  std::string format = "csv";
  bool has_columns = false;
  std::vector<std::string> source_fields;     // in file order
  std::vector<column_mapping> mappings;        // target <- source/constant
  std::string column_separator = "\t";
  std::string row_delimiter = "\n";
  bool strip_outer_array = false;
  bool ignore_json_size = false;
  bool strict_mode = false;
  double max_filter_ratio = 0;
  int64_t timeout_s = 600;
  bool partial_update = false;
  std::string merge_condition; // a non-key column: a row replaces the stored one only if >=
};

// Header validation done before the body is read (the BE's header phase). Returns "" or
// the Fail message.
std::string parse_load_options(const std::map<std::string, std::string>& headers, const table& t, load_options& out);

struct load_outcome {
  int64_t total = 0, loaded = 0, filtered = 0, unselected = 0;
  std::vector<std::string> error_lines; // "Error: ... Row: ..."
  std::string fatal;                    // whole-load failure ("" if none)
};

// Parses and, when within max_filter_ratio and `apply`, applies the rows to `t`.
load_outcome load_rows(table& t, const load_options& opt, const std::string& body, bool apply);

// No-store mode: counts rows without parsing them.
int64_t count_rows(const load_options& opt, const std::string& body);

} // namespace emulator
