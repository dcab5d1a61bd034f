#include "tools/starrocks_emulator/sql_parser.h"

#include <cctype>
#include <stdexcept>
#include <vector>

namespace emulator {

namespace {

struct token {
  enum kind_t { word, string, number, symbol, end } kind = end;
  std::string text;
};

std::vector<token> tokenize(const std::string& s) {
  std::vector<token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') { while (i < s.size() && s[i] != '\n') ++i; continue; }
    if (c == '#') { while (i < s.size() && s[i] != '\n') ++i; continue; }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      auto e = s.find("*/", i + 2);
      i = e == std::string::npos ? s.size() : e + 2;
      continue;
    }
    if (c == '`') {
      auto e = s.find('`', i + 1);
      if (e == std::string::npos) throw std::runtime_error("unterminated identifier");
      out.push_back({token::word, s.substr(i + 1, e - i - 1)});
      i = e + 1;
      continue;
    }
    if (c == '"' || c == '\'') {
      std::string v;
      size_t j = i + 1;
      while (j < s.size() && s[j] != c) {
        if (s[j] == '\\' && j + 1 < s.size()) ++j;
        v += s[j++];
      }
      if (j >= s.size()) throw std::runtime_error("unterminated string");
      out.push_back({token::string, v});
      i = j + 1;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '$')) ++j;
      out.push_back({token::word, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      out.push_back({token::number, s.substr(i, j - i)});
      i = j;
      continue;
    }
    out.push_back({token::symbol, std::string(1, c)});
    ++i;
  }
  out.push_back({token::end, ""});
  return out;
}

class parser {
public:
  parser(std::vector<token> t, catalog& cat, std::string& db) : toks_(std::move(t)), cat_(cat), db_(db) {}

  void run() {
    while (peek().kind != token::end) {
      if (accept_symbol(";")) continue;
      statement();
    }
  }

private:
  const token& peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  token next() { return toks_[std::min(pos_++, toks_.size() - 1)]; }
  bool is_word(const std::string& w, size_t k = 0) const {
    return peek(k).kind == token::word && upper(peek(k).text) == w;
  }
  bool accept_word(const std::string& w) {
    if (!is_word(w)) return false;
    ++pos_;
    return true;
  }
  bool accept_symbol(const std::string& s) {
    if (peek().kind != token::symbol || peek().text != s) return false;
    ++pos_;
    return true;
  }
  void expect_word(const std::string& w) {
    if (!accept_word(w)) throw std::runtime_error("expected " + w + " near '" + peek().text + "'");
  }
  void expect_symbol(const std::string& s) {
    if (!accept_symbol(s)) throw std::runtime_error("expected '" + s + "' near '" + peek().text + "'");
  }
  std::string identifier() {
    auto t = next();
    if (t.kind != token::word) throw std::runtime_error("expected a name near '" + t.text + "'");
    return t.text;
  }
  // Skips a balanced (...) group, or tokens up to the next top-level clause keyword.
  void skip_group() {
    expect_symbol("(");
    int depth = 1;
    while (depth > 0 && peek().kind != token::end) {
      auto t = next();
      if (t.kind == token::symbol && t.text == "(") ++depth;
      if (t.kind == token::symbol && t.text == ")") --depth;
    }
  }
  void skip_to_statement_end() {
    while (peek().kind != token::end && !(peek().kind == token::symbol && peek().text == ";")) {
      if (peek().kind == token::symbol && peek().text == "(") skip_group();
      else next();
    }
  }

  void statement() {
    if (accept_word("CREATE")) {
      if (accept_word("DATABASE") || accept_word("SCHEMA")) return create_database();
      if (accept_word("TABLE")) return create_table();
      throw std::runtime_error("only CREATE DATABASE and CREATE TABLE are supported");
    }
    if (accept_word("USE")) {
      std::string name = identifier();
      if (!cat_.find_db(name)) throw std::runtime_error("Unknown database '" + name + "'");
      db_ = lower(name);
      return;
    }
    if (accept_word("DROP")) {
      expect_word("TABLE");
      bool if_exists = accept_word("IF") && (expect_word("EXISTS"), true);
      auto [db, name] = qualified();
      auto* d = cat_.find_db(db);
      if (!d || !d->tables.erase(lower(name))) {
        if (!if_exists) throw std::runtime_error("Unknown table '" + name + "'");
      }
      skip_to_statement_end();
      return;
    }
    if (accept_word("TRUNCATE")) {
      expect_word("TABLE");
      auto [db, name] = qualified();
      auto* t = cat_.find_table(db, name);
      if (!t) throw std::runtime_error("Unknown table '" + name + "'");
      t->rows.clear();
      t->keyed_rows.clear();
      return;
    }
    throw std::runtime_error("unsupported statement starting with '" + peek().text + "'");
  }

  std::pair<std::string, std::string> qualified() {
    std::string a = identifier();
    if (accept_symbol(".")) return {a, identifier()};
    if (db_.empty()) throw std::runtime_error("No database selected");
    return {db_, a};
  }

  bool accept_if_not_exists() {
    if (!accept_word("IF")) return false;
    expect_word("NOT");
    expect_word("EXISTS");
    return true;
  }

  void create_database() {
    bool if_not_exists = accept_if_not_exists();
    std::string name = identifier();
    if (cat_.find_db(name)) {
      if (!if_not_exists) throw std::runtime_error("Can't create database '" + name + "'; database exists");
    } else {
      cat_.databases[lower(name)].name = name;
    }
    skip_to_statement_end();
  }

  void create_table() {
    bool if_not_exists = accept_if_not_exists();
    auto [db, name] = qualified();
    auto* d = cat_.find_db(db);
    if (!d) throw std::runtime_error("Unknown database '" + db + "'");
    table t;
    t.name = name;
    expect_symbol("(");
    while (true) {
      if (is_word("INDEX") || is_word("PRIMARY") || is_word("KEY")) { // inline index/key definitions
        while (!(peek().kind == token::symbol && (peek().text == "," || peek().text == ")"))) {
          if (peek().kind == token::symbol && peek().text == "(") skip_group();
          else next();
        }
      } else {
        t.columns.push_back(column_def());
      }
      if (accept_symbol(",")) continue;
      expect_symbol(")");
      break;
    }
    while (peek().kind != token::end && !(peek().kind == token::symbol && peek().text == ";")) {
      if (accept_word("DUPLICATE") || accept_word("PRIMARY") || accept_word("UNIQUE") || accept_word("AGGREGATE")) {
        std::string kind = upper(toks_[pos_ - 1].text);
        expect_word("KEY");
        t.model = kind == "DUPLICATE" ? key_model::duplicate
                  : kind == "PRIMARY" ? key_model::primary
                  : kind == "UNIQUE"  ? key_model::unique
                                      : key_model::aggregate;
        expect_symbol("(");
        do t.key_columns.push_back(identifier());
        while (accept_symbol(","));
        expect_symbol(")");
        continue;
      }
      if (peek().kind == token::symbol && peek().text == "(") skip_group();
      else next();
    }
    for (const auto& k : t.key_columns)
      if (t.column_index(k) < 0) throw std::runtime_error("Key column '" + k + "' does not exist");
    if (t.model == key_model::primary)
      for (const auto& k : t.key_columns) t.columns[static_cast<size_t>(t.column_index(k))].nullable = false;
    if (d->tables.count(lower(name))) {
      if (!if_not_exists) throw std::runtime_error("Table '" + name + "' already exists");
      return;
    }
    d->tables[lower(name)] = std::move(t);
  }

  column column_def() {
    column c;
    c.name = identifier();
    c.type = upper(identifier());
    if (c.type == "UNSIGNED") c.type = upper(identifier());
    if (accept_symbol("(")) {
      auto a = next();
      if (a.kind != token::number) throw std::runtime_error("expected a number in type of " + c.name);
      if (accept_symbol(",")) {
        auto b = next();
        c.precision = std::stoi(a.text);
        c.scale = std::stoi(b.text);
      } else {
        c.length = std::stoi(a.text);
        c.precision = c.length;
      }
      expect_symbol(")");
    }
    if (c.type == "ARRAY" || c.type == "MAP" || c.type == "STRUCT") { // nested types: keep as text
      if (accept_symbol("<")) {
        int depth = 1;
        while (depth > 0 && peek().kind != token::end) {
          auto t = next();
          if (t.text == "<") ++depth;
          if (t.text == ">") --depth;
        }
      }
      c.type = "JSON";
    }
    if (c.type == "DECIMAL" && c.precision == 0) c.precision = 10;
    while (!(peek().kind == token::symbol && (peek().text == "," || peek().text == ")"))) {
      if (accept_word("NOT")) {
        expect_word("NULL");
        c.nullable = false;
      } else if (accept_word("NULL")) {
        c.nullable = true;
      } else if (accept_word("DEFAULT")) {
        auto v = next();
        if (v.kind == token::word && upper(v.text) == "NULL") c.default_value.reset();
        else if (v.kind == token::word && upper(v.text) == "CURRENT_TIMESTAMP") c.default_value = "1970-01-01 00:00:00";
        else c.default_value = v.text;
      } else if (accept_word("COMMENT")) {
        next();
      } else if (is_word("SUM") || is_word("MAX") || is_word("MIN") || is_word("REPLACE") ||
                 is_word("REPLACE_IF_NOT_NULL") || is_word("BITMAP_UNION") || is_word("HLL_UNION")) {
        c.aggregate = upper(next().text);
      } else if (peek().kind == token::end) {
        throw std::runtime_error("unexpected end in column " + c.name);
      } else {
        if (peek().kind == token::symbol && peek().text == "(") skip_group();
        else next(); // AUTO_INCREMENT, CHARSET, ... accepted
      }
    }
    return c;
  }

  std::vector<token> toks_;
  size_t pos_ = 0;
  catalog& cat_;
  std::string& db_;
};

} // namespace

std::string execute_sql(catalog& cat, const std::string& sql, std::string& current_db) {
  try {
    parser p(tokenize(sql), cat, current_db);
    p.run();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

} // namespace emulator
