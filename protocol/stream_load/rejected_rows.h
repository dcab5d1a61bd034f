#pragma once
// Telling apart the rows StarRocks rejected in a refused load ("too many filtered rows": with
// max_filter_ratio exceeded the load is aborted and loads nothing), so that the good rows can
// be loaded again without them and the rejected ones named (errors.tolerance=none) or sent to
// the dead-letter topic (errors.tolerance=all).
//
// Two sources of truth, used together: the load's ErrorURL log names rejected rows ("Error:
// <reason>. Row: <row>"), but its layout is StarRocks', rows may be cut short and the log is
// capped; and loading a subset of the rows under a new label tells for certain whether the
// subset holds a rejected row. A row is taken as rejected only when the log quotes it exactly
// or when a load of that row alone (or of a subset StarRocks says it rejected whole) was
// refused; everything else is loaded again, so a log that says too little costs extra loads,
// never a good row.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conf/connector_config.h"

namespace starpipe::stream_load {

// A load failed because of its rows (and loaded nothing), as opposed to anything else.
bool refused_for_rows(const std::string& message);

// Where one row lies in a body the row encoder framed.
struct row_span {
  size_t begin = 0, size = 0;
};

// The rows of a body framed by row_encoder: the elements of a JSON array, or CSV lines ending
// with the row delimiter. Empty on a body that is not framed so.
std::vector<row_span> split_body(const std::string& body, conf::load_format format, const std::string& row_delimiter);

// A body holding only `rows` (indexes into `spans`), framed as row_encoder frames one.
std::string body_of(const std::string& body, const std::vector<row_span>& spans, const std::vector<size_t>& rows,
                    conf::load_format format, const std::string& row_delimiter);

// Rows of `candidates` that the error log quotes, with the log's reason for each. JSON rows
// are compared as values (StarRocks re-prints them), CSV rows as text.
std::map<size_t, std::string> match_error_log(const std::string& log, const std::string& body,
                                              const std::vector<row_span>& spans,
                                              const std::vector<size_t>& candidates, conf::load_format format);

// The first line of an error log without its "Error: " (the reason to give when no line
// could be matched).
std::string first_error_line(const std::string& log);

// The search over one refused load's rows. The refused load itself is the first probe: the
// caller reports it with refused(), then loads current() under a new label and reports
// loaded() or refused() until done(). Subsets are probed lowest rows first.
// first_only (errors.tolerance=none): stops once the first rejected row is certain.
class rejection_search {
public:
  rejection_search(size_t rows, bool first_only);

  // Loads one refused load may take to tell its rows apart. Halving costs about two loads per
  // rejected row and level, so this covers dozens of rejected rows in a large batch; a batch
  // that needs more (most rows rejected and the log not quoting them) fails the task instead
  // of keeping StarRocks busy for hours.
  static constexpr size_t max_probes = 1000;

  bool done() const { return pending_.empty(); }
  bool gave_up() const { return !done() && probes_ >= max_probes; }
  const std::vector<size_t>& current() const { return pending_.back(); }
  size_t probes() const { return probes_; }

  // current() loaded: its rows are in StarRocks.
  void loaded();
  // current() was refused for its rows. `quoted`: rows the refusal's error log quotes, with
  // reasons; `filtered`: how many rows StarRocks says it rejected, when the answer says;
  // `reason`: what to give a row found rejected without a quote.
  void refused(const std::map<size_t, std::string>& quoted, std::optional<int64_t> filtered,
               const std::string& reason);

  // Rows found rejected, lowest first, with StarRocks' reason.
  const std::map<size_t, std::string>& rejected() const { return rejected_; }
  // Rows a probe loaded.
  size_t loaded_rows() const { return loaded_rows_; }

private:
  void push(std::vector<size_t> rows);
  void prune(); // first_only: rows past the first rejected one need no probe

  bool first_only_;
  std::vector<std::vector<size_t>> pending_; // a stack: back() is probed next
  std::map<size_t, std::string> rejected_;
  size_t loaded_rows_ = 0;
  size_t probes_ = 1;
};

} // namespace starpipe::stream_load
