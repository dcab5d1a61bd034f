#include "protocol/stream_load/flush_policy.h"

namespace starpipe::sinks {

const char* to_string(flush_reason r) {
  switch (r) {
    case flush_reason::none: return "none";
    case flush_reason::bytes: return "bytes";
    case flush_reason::rows: return "rows";
    case flush_reason::interval: return "interval";
    case flush_reason::requested: return "requested";
    case flush_reason::caught_up: return "caught up";
  }
  return "?";
}

int64_t batch_bytes_for(int64_t buffer_max_bytes) { return buffer_max_bytes / 4; }

} // namespace starpipe::sinks
