#pragma once
// Which record each row of a load body came from, in body order: runs of consecutive offsets
// of one stream, one or a few per fragment. Kept beside the body so that a row StarRocks
// rejects can be named and re-read for the dead-letter topic.
#include <algorithm>
#include <vector>

#include "actors/messages.h"

namespace starpipe::sinks {

struct row_origin {
  stream_id stream;
  int64_t offset = 0;
};

class row_origins {
public:
  void append(const stream_id& stream, const std::vector<offset_run>& runs) {
    for (const auto& r : runs) {
      if (r.count == 0) continue;
      runs_.push_back({stream, r.first, r.count, rows_});
      rows_ += r.count;
    }
  }
  size_t size() const { return rows_; }
  // The origin of row `row` (< size()).
  row_origin at(size_t row) const {
    auto it = std::upper_bound(runs_.begin(), runs_.end(), row, [](size_t r, const run& x) { return r < x.start; });
    --it;
    return {it->stream, it->first + static_cast<int64_t>(row - it->start)};
  }
  void clear() {
    runs_.clear();
    rows_ = 0;
  }

private:
  struct run {
    stream_id stream;
    int64_t first;
    uint32_t count;
    size_t start; // index of its first row in the body
  };
  std::vector<run> runs_;
  size_t rows_ = 0;
};

} // namespace starpipe::sinks
