#pragma once
// Rows -> Stream Load body. JSON rows travel as one array ("[r1,r2]", sent with
// strip_outer_array=true); CSV rows each end with the row delimiter, so bodies never glue
// rows together. Sources build fragments; a writer concatenates fragments into a body.
#include <string>

#include "conf/connector_config.h"

namespace starpipe::stream_load {

class row_encoder {
public:
  row_encoder(conf::load_format format, std::string row_delimiter)
      : format_(format), delimiter_(std::move(row_delimiter)) {}

  // Marks where a row starts in a fragment; returns the mark to roll back to.
  size_t begin_row(std::string& fragment) const {
    size_t mark = fragment.size();
    if (format_ == conf::load_format::json && !fragment.empty()) fragment += ',';
    return mark;
  }
  void end_row(std::string& fragment) const {
    if (format_ == conf::load_format::csv) fragment += delimiter_;
  }
  static void rollback_row(std::string& fragment, size_t mark) { fragment.resize(mark); }

  // Body under construction: fragments appended in order.
  void start_body(std::string& body) const {
    body.clear();
    if (format_ == conf::load_format::json) body += '[';
  }
  void append_fragment(std::string& body, const std::string& fragment) const {
    if (fragment.empty()) return;
    if (format_ == conf::load_format::json && body.size() > 1) body += ',';
    body += fragment;
  }
  void finish_body(std::string& body) const {
    if (format_ == conf::load_format::json) body += ']';
  }

private:
  conf::load_format format_;
  std::string delimiter_;
};

} // namespace starpipe::stream_load
