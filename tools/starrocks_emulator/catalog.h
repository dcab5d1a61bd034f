#pragma once
// The emulator's data: databases, tables with typed columns and their rows, and each
// database's labels with their transaction states (docs/reference/starrocks-protocol.md 2.2, 4).
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

enum class key_model { duplicate, primary, unique, aggregate };

struct column {
  std::string name;
  std::string type;     // upper-case base type: INT, VARCHAR, DECIMAL, DATE, ...
  int length = 0;       // VARCHAR/CHAR bytes
  int precision = 0, scale = 0;
  bool nullable = true;
  std::optional<std::string> default_value;
  std::string aggregate; // SUM, REPLACE, ... (aggregate tables)
};

using cell = std::optional<std::string>; // normalized text; nullopt = NULL
using row = std::vector<cell>;

struct table {
  std::string name;
  std::vector<column> columns;
  key_model model = key_model::duplicate;
  std::vector<std::string> key_columns;
  std::vector<row> rows;                       // duplicate: arrival order
  std::map<std::string, row> keyed_rows;       // primary/unique: by encoded key

  int column_index(const std::string& name) const; // case-insensitive, -1 if absent
  std::vector<row> snapshot() const;
};

struct label_info {
  int64_t txn_id = 0;
  std::string state; // PREPARE, PREPARED, COMMITTED, VISIBLE, ABORTED
  std::string table;
  std::string reason;
};

// A transaction Stream Load's data, held until commit (docs/reference/starrocks-protocol.md 3.3): the BE
// context while PREPARE, then the prepared transaction the FE commits or aborts.
struct open_transaction {
  int64_t txn_id = 0;
  std::string table;
  std::map<std::string, std::string> load_headers; // of the first load; later loads must match
  bool loaded = false;
  bool in_flight = false;                          // a load request is reading its body
  std::vector<std::string> bodies;
  int64_t bytes = 0;
  int64_t total = 0, filtered = 0, unselected = 0; // counted at prepare
  std::string error_url;
  std::chrono::steady_clock::time_point deadline;  // begin timeout, then prepared_timeout
  std::chrono::steady_clock::time_point last_data;
  int64_t idle_timeout_s = 0;
};

struct database {
  std::string name;
  std::map<std::string, table> tables; // lower-case name
  std::map<std::string, label_info> labels;
  std::map<std::string, open_transaction> transactions; // label -> PREPARE or PREPARED data
};

class catalog {
public:
  std::mutex mutex; // the server is single-threaded; tools reading concurrently take it
  std::map<std::string, database> databases; // lower-case name
  int64_t next_txn_id = 1000;
  int64_t committed_transaction_rows = 0; // rows of committed transaction stream loads (stats)

  database* find_db(const std::string& name);
  table* find_table(const std::string& db, const std::string& name);
};

// Converts a raw value to a column's normalized text. Returns nullopt and sets `error` when
// the value does not fit: a type conversion failure becomes NULL unless strict_mode, while a
// string longer than its column (`always_filtered`) filters the row in either mode.
std::optional<std::string> convert_value(const column& c, const std::string& raw, bool& always_filtered,
                                         std::string& error);

std::string lower(std::string s);
std::string upper(std::string s);

} // namespace emulator
