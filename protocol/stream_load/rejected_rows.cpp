#include "protocol/stream_load/rejected_rows.h"

#include <nlohmann/json.hpp>

#include "protocol/connect/json_scan.h"

namespace starpipe::stream_load {

bool refused_for_rows(const std::string& message) { return message.find("too many filtered rows") != std::string::npos; }

std::vector<row_span> split_body(const std::string& body, conf::load_format format, const std::string& row_delimiter) {
  std::vector<row_span> spans;
  if (format == conf::load_format::csv) {
    if (row_delimiter.empty()) return {};
    size_t at = 0;
    while (at < body.size()) {
      size_t end = body.find(row_delimiter, at);
      if (end == std::string::npos) return {}; // every row ends with the delimiter
      spans.push_back({at, end - at});
      at = end + row_delimiter.size();
    }
    return spans;
  }
  // "[row,row,...]": split at the commas between top-level elements.
  if (body.size() < 2 || body.front() != '[' || body.back() != ']') return {};
  size_t depth = 0, start = 1;
  bool in_string = false;
  for (size_t i = 1; i + 1 < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 0) return {};
      --depth;
    } else if (c == ',' && depth == 0) {
      spans.push_back({start, i - start});
      start = i + 1;
    }
  }
  if (in_string || depth != 0) return {};
  if (body.size() - 1 > start) spans.push_back({start, body.size() - 1 - start});
  return spans;
}

std::string body_of(const std::string& body, const std::vector<row_span>& spans, const std::vector<size_t>& rows,
                    conf::load_format format, const std::string& row_delimiter) {
  size_t size = 2;
  for (size_t r : rows) size += spans[r].size + row_delimiter.size() + 1;
  std::string out;
  out.reserve(size);
  if (format == conf::load_format::json) out += '[';
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& s = spans[rows[k]];
    if (format == conf::load_format::json && k > 0) out += ',';
    out.append(body, s.begin, s.size);
    if (format == conf::load_format::csv) out += row_delimiter;
  }
  if (format == conf::load_format::json) out += ']';
  return out;
}

namespace {

// One JSON value in one spelling, so that StarRocks' re-printing of a row compares equal.
std::optional<std::string> canonical_json(std::string_view text) {
  if (connect::nested_deeper_than(text)) return std::nullopt;
  auto v = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (v.is_discarded()) return std::nullopt;
  return v.dump();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A log line's reason: the text before its quoted row, without StarRocks' "Error: ".
std::string without_error_prefix(std::string reason) {
  return reason.rfind("Error: ", 0) == 0 ? reason.substr(7) : reason;
}

} // namespace

std::map<size_t, std::string> match_error_log(const std::string& log, const std::string& body,
                                              const std::vector<row_span>& spans,
                                              const std::vector<size_t>& candidates, conf::load_format format) {
  std::map<size_t, std::string> out;
  if (log.empty() || candidates.empty()) return out;
  // Each candidate row under the spelling a quote is compared in; a quote claims one row.
  std::multimap<std::string, size_t> by_text;
  for (size_t r : candidates) {
    std::string_view row(body.data() + spans[r].begin, spans[r].size);
    if (format == conf::load_format::json) {
      if (auto c = canonical_json(row)) by_text.emplace(std::move(*c), r);
    } else {
      by_text.emplace(std::string(row), r);
    }
  }
  size_t at = 0;
  while (at < log.size()) {
    size_t end = log.find('\n', at);
    if (end == std::string::npos) end = log.size();
    std::string line = trim(log.substr(at, end - at));
    at = end + 1;
    static const std::string marker = ". Row: ";
    // The reason may itself hold the marker: try each place it occurs.
    for (size_t m = line.find(marker); m != std::string::npos; m = line.find(marker, m + 1)) {
      std::string quoted = line.substr(m + marker.size());
      std::optional<std::string> key = format == conf::load_format::json ? canonical_json(quoted) : quoted;
      if (!key) continue;
      auto it = by_text.find(*key);
      if (it == by_text.end()) continue;
      out[it->second] = without_error_prefix(line.substr(0, m));
      by_text.erase(it);
      break;
    }
  }
  return out;
}

std::string first_error_line(const std::string& log) {
  size_t end = log.find('\n');
  return without_error_prefix(trim(log.substr(0, end == std::string::npos ? log.size() : end)));
}

rejection_search::rejection_search(size_t rows, bool first_only) : first_only_(first_only) {
  std::vector<size_t> all(rows);
  for (size_t i = 0; i < rows; ++i) all[i] = i;
  pending_.push_back(std::move(all)); // the refused load, reported by the first refused()
  probes_ = 0;
}

void rejection_search::push(std::vector<size_t> rows) {
  if (!rows.empty()) pending_.push_back(std::move(rows));
}

void rejection_search::loaded() {
  ++probes_;
  loaded_rows_ += pending_.back().size();
  pending_.pop_back();
}

void rejection_search::refused(const std::map<size_t, std::string>& quoted, std::optional<int64_t> filtered,
                               const std::string& reason) {
  ++probes_;
  std::vector<size_t> segment = std::move(pending_.back());
  pending_.pop_back();
  std::vector<size_t> rest;
  size_t quoted_here = 0;
  for (size_t r : segment) {
    auto q = quoted.find(r);
    if (q == quoted.end()) {
      rest.push_back(r);
    } else {
      rejected_[r] = q->second;
      ++quoted_here;
    }
  }
  if (!rest.empty()) {
    bool all_known = filtered && static_cast<int64_t>(quoted_here) >= *filtered;
    if (quoted_here > 0) {
      // The rest is loaded as a whole (a refusal names more of it); under first_only it need
      // not be, when StarRocks' count says the quotes were all of its rejected rows.
      if (!(first_only_ && all_known)) push(std::move(rest));
    } else if (rest.size() == 1 || (filtered && *filtered >= static_cast<int64_t>(rest.size()))) {
      for (size_t r : rest) rejected_[r] = reason;
    } else {
      size_t half = rest.size() / 2;
      push(std::vector<size_t>(rest.begin() + static_cast<long>(half), rest.end()));
      rest.resize(half);
      push(std::move(rest)); // the lower half first
    }
  }
  if (first_only_) prune();
}

void rejection_search::prune() {
  if (rejected_.empty()) return;
  size_t first = rejected_.begin()->first;
  std::vector<std::vector<size_t>> kept;
  for (auto& seg : pending_) {
    std::vector<size_t> below;
    for (size_t r : seg)
      if (r < first) below.push_back(r);
    if (!below.empty()) kept.push_back(std::move(below));
  }
  pending_ = std::move(kept);
}

} // namespace starpipe::stream_load
