#pragma once
// Stream Load labels: [A-Za-z0-9_-]{1,128}, made once per batch and reused on every retry,
// so a retry of a load that did land is answered "Label Already Exists".
#include <cstdint>
#include <string>

namespace starpipe::stream_load {

// Replaces characters StarRocks refuses with '_'.
std::string sanitize_label_part(const std::string& s);

// "<prefix>-<table>-<unique>-<sequence>", cut to 128 characters keeping the unique tail.
std::string make_label(const std::string& prefix, const std::string& table, const std::string& unique,
                       uint64_t sequence);

bool is_valid_label(const std::string& label);

// A random token for one writer's lifetime (hex), so labels never collide across restarts.
std::string random_token(size_t hex_chars = 12);

} // namespace starpipe::stream_load
