#pragma once
// A single-pass JSON validator (RFC 8259 grammar, UTF-8 checked) for the pass-through path:
// plain JSON rows are sent as they came, so they are only validated, never parsed into a DOM.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace starpipe::connect {

// How deep arrays and objects may nest in any JSON starpipe parses (records, REST bodies,
// files, StarRocks' answers). Trees are copied, rendered and compared recursively, so a
// deeper document would overflow a thread's stack; it is refused before any tree is built.
constexpr size_t max_json_depth = 512;

// True when `text` is exactly one JSON value (surrounding white space allowed).
bool is_valid_json(std::string_view text, size_t max_depth = max_json_depth);

// A JsonConverter envelope, {"schema": S, "payload": P} and nothing else, valid as a whole:
// the texts of S and P. False for anything else (escaped key spellings included: the caller
// then reads the document the general way).
bool split_envelope(std::string_view text, std::string_view& schema, std::string_view& payload);

// True when arrays/objects in `text` nest deeper than `max_depth` (brackets inside strings do
// not count). One linear pass, no recursion, no allocation; the text need not be valid JSON.
bool nested_deeper_than(std::string_view text, size_t max_depth = max_json_depth);

// The UTF-8 sequence starting at s[i]: its length (1 for ASCII) and code point in `cp`, or 0
// when it is malformed (bad lead or continuation byte, truncated, overlong, a surrogate,
// beyond U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp);

// The error text for such a document.
inline std::string too_deep_message() { return "nested deeper than " + std::to_string(max_json_depth) + " levels"; }

} // namespace starpipe::connect
