#pragma once
// A single-pass JSON validator (RFC 8259 grammar, UTF-8 checked) for the pass-through path:
// plain JSON rows are sent as they came, so they are only validated, never parsed into a DOM.
#include <cstddef>
#include <string_view>

namespace starpipe::connect {

// True when `text` is exactly one JSON value (surrounding white space allowed).
bool is_valid_json(std::string_view text, size_t max_depth = 512);

} // namespace starpipe::connect
