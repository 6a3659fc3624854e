// Lua table constructors as SavedVariables files hold them, read and written without a Lua VM.
#include "runtime/lua_table_text.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tally {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 200;

// ---------------------------------------------------------------------------------------------
// Writing

void write_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03u", c);  // 3 digits: a following digit stays apart
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

void write_number(std::string& out, double d, const std::string& path) {
  if (!std::isfinite(d)) throw std::invalid_argument(path + ": cannot save a non-finite number");
  char buf[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  out += buf;
}

void write_value(std::string& out, const json& v, int depth, const std::string& path) {
  if (depth > kMaxDepth) throw std::invalid_argument(path + ": nested deeper than 200 tables");
  switch (v.type()) {
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); return;
    case json::value_t::number_float: write_number(out, v.get<double>(), path); return;
    case json::value_t::string: write_string(out, v.get_ref<const std::string&>()); return;
    case json::value_t::array:
    case json::value_t::object: break;
    default: throw std::invalid_argument(path + ": cannot save a " + std::string(v.type_name()));
  }
  std::string indent(static_cast<std::size_t>(depth) + 1, '\t');
  out += "{\n";
  if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      out += indent;
      write_value(out, v[i], depth + 1, path + "[" + std::to_string(i + 1) + "]");
      out += ", -- [" + std::to_string(i + 1) + "]\n";
    }
  } else {
    for (const auto& [key, value] : v.items()) {  // nlohmann keeps object keys sorted
      out += indent + "[";
      write_string(out, key);
      out += "] = ";
      write_value(out, value, depth + 1, path + "." + key);
      out += ",\n";
    }
  }
  out += std::string(static_cast<std::size_t>(depth), '\t') + "}";
}

// ---------------------------------------------------------------------------------------------
// Reading

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  std::vector<std::pair<std::string, json>> file() {
    std::vector<std::pair<std::string, json>> vars;
    skip_space();
    while (pos_ < text_.size()) {
      std::string name = identifier("a variable name");
      skip_space();
      expect('=', "after the variable name");
      json value = expression(0);
      vars.emplace_back(std::move(name), std::move(value));
      skip_space();
      if (peek() == ';') {
        ++pos_;
        skip_space();
      }
    }
    return vars;
  }

 private:
  json expression(int depth) {
    skip_space();
    char c = peek();
    if (c == '{') return table(depth + 1);
    if (c == '"' || c == '\'') return quoted_string();
    if (c == '[' && (peek(1) == '[' || peek(1) == '=')) return long_string();
    if (c == '-' || (c >= '0' && c <= '9') || c == '.') return number();
    if (is_alpha(c)) {
      std::size_t start = pos_;
      std::string word = identifier("a value");
      if (word == "true") return true;
      if (word == "false") return false;
      if (word == "nil") return nullptr;
      pos_ = start;
      fail("expected a value, got '" + word + "'");
    }
    fail(pos_ >= text_.size() ? "expected a value, got the end of the file"
                              : "expected a value, got '" + std::string(1, c) + "'");
  }

  json table(int depth) {
    if (depth > kMaxDepth) fail("tables nested deeper than " + std::to_string(kMaxDepth));
    ++pos_;  // '{'
    json keyed = json::object();
    std::vector<json> positional;
    bool has_keyed = false;
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      if (peek() == '[' && peek(1) != '[' && peek(1) != '=') {
        ++pos_;
        json key = expression(depth);
        skip_space();
        expect(']', "after a table key");
        skip_space();
        expect('=', "after a table key");
        store_keyed(keyed, positional, has_keyed, key, expression(depth));
      } else if (is_alpha(peek()) && next_is_assignment()) {
        std::string name = identifier("a field name");
        skip_space();
        expect('=', "after a field name");
        store_keyed(keyed, positional, has_keyed, json(name), expression(depth));
      } else {
        positional.push_back(expression(depth));
      }
      skip_space();
      if (peek() == ',' || peek() == ';') {
        ++pos_;
      } else if (peek() != '}') {
        fail(pos_ >= text_.size() ? "unterminated table: expected '}'"
                                  : "expected ',' or '}' in a table, got '" + std::string(1, peek()) + "'");
      }
    }
    // Trailing nils do not count as list items, as in Lua.
    while (!positional.empty() && positional.back().is_null()) positional.pop_back();
    if (!has_keyed) return json(positional);
    if (!positional.empty()) fail("a table mixing list items and named keys is not supported here");
    return keyed;
  }

  void store_keyed(json& keyed, std::vector<json>& positional, bool& has_keyed, const json& key,
                   json value) {
    if (key.is_null()) fail("table key is nil");
    if (key.is_number_float() && std::isnan(key.get<double>())) fail("table key is NaN");
    // [i] = v keys that continue the list are list items, as the game writes them.
    if (key.is_number_integer() && key.get<std::int64_t>() == static_cast<std::int64_t>(positional.size()) + 1 &&
        !has_keyed) {
      positional.push_back(std::move(value));
      return;
    }
    if (!key.is_string()) fail("only string keys and lists are supported here, got key " + key.dump());
    if (value.is_null()) return;  // assigning nil removes nothing that exists yet
    has_keyed = true;
    keyed[key.get<std::string>()] = std::move(value);
  }

  json number() {
    std::size_t start = pos_;
    bool negative = peek() == '-';
    if (negative) {
      ++pos_;
      skip_space();
    }
    std::size_t digits = pos_;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      pos_ += 2;
      std::size_t hex_start = pos_;
      while (std::isxdigit(static_cast<unsigned char>(peek()))) ++pos_;
      if (pos_ == hex_start || pos_ - hex_start > 15) fail("bad hexadecimal number");
      auto v = static_cast<std::int64_t>(std::strtoll(std::string(text_.substr(hex_start, pos_ - hex_start)).c_str(), nullptr, 16));
      return negative ? -v : v;
    }
    bool is_float = false;
    while (std::isdigit(static_cast<unsigned char>(peek())) || peek() == '.' || peek() == 'e' ||
           peek() == 'E' || ((peek() == '+' || peek() == '-') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E'))) {
      if (!std::isdigit(static_cast<unsigned char>(peek()))) is_float = true;
      ++pos_;
    }
    std::string literal(text_.substr(digits, pos_ - digits));
    if (literal.empty()) {
      pos_ = start;
      fail("expected a number");
    }
    char* end = nullptr;
    double d = std::strtod(literal.c_str(), &end);
    if (end != literal.c_str() + literal.size() || !std::isfinite(d)) {
      pos_ = start;
      fail("malformed number '" + literal + "'");
    }
    if (negative) d = -d;
    if (!is_float && std::fabs(d) <= 9007199254740992.0) return static_cast<std::int64_t>(d);
    return d;
  }

  json quoted_string() {
    std::size_t start = pos_;
    char quote = text_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        pos_ = start;
        fail("unterminated string");
      }
      char c = text_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated string");
      char e = text_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case '\'': out += '\''; break;
        case '\n': out += '\n'; break;
        default: {
          if (!std::isdigit(static_cast<unsigned char>(e))) {
            pos_ -= 2;
            fail("invalid escape '\\" + std::string(1, e) + "' in a string");
          }
          int value = e - '0';
          for (int k = 0; k < 2 && std::isdigit(static_cast<unsigned char>(peek())); ++k) value = value * 10 + (text_[pos_++] - '0');
          if (value > 255) fail("escape \\" + std::to_string(value) + " is larger than 255");
          out += static_cast<char>(value);
        }
      }
    }
    return out;
  }

  json long_string() {
    std::size_t level = 0;
    ++pos_;
    while (peek() == '=') {
      ++level;
      ++pos_;
    }
    if (peek() != '[') fail("malformed long string opening");
    ++pos_;
    if (peek() == '\r') ++pos_;
    if (peek() == '\n') ++pos_;  // the first newline is not part of the string
    std::string close = "]" + std::string(level, '=') + "]";
    std::size_t end = text_.find(close, pos_);
    if (end == std::string_view::npos) fail("unterminated long string");
    std::string out(text_.substr(pos_, end - pos_));
    pos_ = end + close.size();
    return out;
  }

  bool next_is_assignment() const {
    std::size_t p = pos_;
    while (p < text_.size() && (is_alpha(text_[p]) || std::isdigit(static_cast<unsigned char>(text_[p])))) ++p;
    while (p < text_.size() && std::isspace(static_cast<unsigned char>(text_[p]))) ++p;
    return p < text_.size() && text_[p] == '=' && (p + 1 >= text_.size() || text_[p + 1] != '=');
  }

  std::string identifier(const char* what) {
    if (!is_alpha(peek())) fail(std::string("expected ") + what);
    std::size_t start = pos_;
    while (is_alpha(peek()) || std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '-' && peek(1) == '-') {
        pos_ += 2;
        if (peek() == '[' && (peek(1) == '[' || peek(1) == '=')) {
          long_string();
        } else {
          while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        }
      } else {
        break;
      }
    }
  }

  void expect(char c, const char* context) {
    if (peek() != c) {
      fail("expected '" + std::string(1, c) + "' " + context + ", got " +
           (pos_ >= text_.size() ? std::string("the end of the file") : "'" + std::string(1, peek()) + "'"));
    }
    ++pos_;
  }

  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw LuaTextError(std::string(source_) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
  }

  std::string_view text_;
  std::string_view source_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string write_saved_variable(std::string_view name, const nlohmann::json& value) {
  std::string out(name);
  out += " = ";
  write_value(out, value, 0, std::string(name));
  out += "\n";
  return out;
}

std::vector<std::pair<std::string, nlohmann::json>> read_saved_variables(std::string_view text,
                                                                         std::string_view source_name) {
  return Parser(text, source_name).file();
}

}  // namespace tally
