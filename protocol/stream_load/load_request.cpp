#include "protocol/stream_load/load_request.h"

namespace starpipe::stream_load {

load_request build_load_request(const conf::connector_config& cfg, const std::string& table,
                                const std::string& label, std::shared_ptr<const std::string> body, size_t rows) {
  load_request req;
  req.database = cfg.database;
  req.table = table;
  req.label = label;
  req.body = std::move(body);
  req.rows = rows;
  req.headers.emplace_back("label", label);
  for (const auto& [k, v] : cfg.load_properties_for(table)) req.headers.emplace_back(k, v);
  return req;
}

std::string basic_auth(const std::string& user, const std::string& password) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = user + ":" + password, out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return "Basic " + out;
}

} // namespace starpipe::stream_load
