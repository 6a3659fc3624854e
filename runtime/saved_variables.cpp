// SavedVariables files read (Lua 5.1 literals, hostile input welcome) and written as the game does.
#include "runtime/saved_variables.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>

namespace tally::savedvars {

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Below this many keys a linear scan is as fast as a lookup and saves the index's memory.
constexpr std::size_t kLinearScanLimit = 8;

// 2^53: above it not every integer is a double, so integral output stops being "an integer".
constexpr double kMaxExactInteger = 9007199254740992.0;

constexpr std::array<std::string_view, 21> kKeywords = {
    "and",   "break", "do",  "else", "elseif", "end",    "false", "for",  "function", "if",   "in",
    "local", "nil",   "not", "or",   "repeat", "return", "then",  "true", "until",    "while"};

bool is_keyword(std::string_view word) {
  return std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end();
}

// ASCII only, as Lua in the C locale.
bool is_name_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(int c) {
  return c >= '0' && c <= '9';
}
bool is_name_char(int c) {
  return is_name_start(c) || is_digit(c);
}
bool is_hex_digit(int c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_identifier(std::string_view word) {
  if (word.empty() || !is_name_start(static_cast<unsigned char>(word[0]))) return false;
  for (char c : word) {
    if (!is_name_char(static_cast<unsigned char>(c))) return false;
  }
  return !is_keyword(word);
}

// One key for 0 and -0, as Lua has.
double normalize_key(double key) {
  return key == 0 ? 0.0 : key;
}

std::string type_article(Value::Type type) {
  std::string_view name = type_name(type);
  return std::string(type == Value::Type::Nil ? "" : "a ") + std::string(name);
}

[[noreturn]] void wrong_type(Value::Type wanted, Value::Type got) {
  throw std::invalid_argument("expected " + type_article(wanted) + ", got " + type_article(got));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Value and Table

std::string_view type_name(Value::Type type) {
  switch (type) {
    case Value::Type::Nil:
      return "nil";
    case Value::Type::Boolean:
      return "boolean";
    case Value::Type::Number:
      return "number";
    case Value::Type::String:
      return "string";
    case Value::Type::Table:
      return "table";
  }
  return "?";
}

bool Value::as_boolean() const {
  if (!is_boolean()) wrong_type(Type::Boolean, type());
  return std::get<bool>(data_);
}

double Value::as_number() const {
  if (!is_number()) wrong_type(Type::Number, type());
  return std::get<double>(data_);
}

const std::string& Value::as_string() const {
  if (!is_string()) wrong_type(Type::String, type());
  return std::get<std::string>(data_);
}

const Table& Value::as_table() const {
  if (!is_table()) wrong_type(Type::Table, type());
  return std::get<Table>(data_);
}

Table& Value::as_table() {
  if (!is_table()) wrong_type(Type::Table, type());
  return std::get<Table>(data_);
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::Nil:
      return true;
    case Value::Type::Boolean:
      return a.as_boolean() == b.as_boolean();
    case Value::Type::Number:
      return a.as_number() == b.as_number();
    case Value::Type::String:
      return a.as_string() == b.as_string();
    case Value::Type::Table:
      return a.as_table() == b.as_table();
  }
  return false;
}

struct Table::Index {
  std::map<std::string, std::size_t, std::less<>> strings;
  std::map<double, std::size_t> numbers;
  std::array<std::size_t, 2> booleans{npos, npos};
};

Table::Table() noexcept = default;
Table::Table(Table&& other) noexcept = default;
Table& Table::operator=(Table&& other) noexcept = default;
Table::~Table() = default;

Table::Table(std::initializer_list<Entry> entries) {
  for (const Entry& entry : entries) set(entry.first, entry.second);
}

Table::Table(const Table& other)
    : entries_(other.entries_),
      index_(other.index_ ? std::make_unique<Index>(*other.index_) : nullptr) {}

Table& Table::operator=(const Table& other) {
  if (this != &other) *this = Table(other);
  return *this;
}

std::size_t Table::locate_string(std::string_view key) const {
  if (index_) {
    auto it = index_->strings.find(key);
    return it == index_->strings.end() ? npos : it->second;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Value& k = entries_[i].first;
    if (k.is_string() && k.as_string() == key) return i;
  }
  return npos;
}

std::size_t Table::locate_number(double key) const {
  if (std::isnan(key)) return npos;
  if (index_) {
    auto it = index_->numbers.find(normalize_key(key));
    return it == index_->numbers.end() ? npos : it->second;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Value& k = entries_[i].first;
    if (k.is_number() && k.as_number() == key) return i;
  }
  return npos;
}

std::size_t Table::locate_boolean(bool key) const {
  if (index_) return index_->booleans[key ? 1 : 0];
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Value& k = entries_[i].first;
    if (k.is_boolean() && k.as_boolean() == key) return i;
  }
  return npos;
}

std::size_t Table::locate(const Value& key) const {
  switch (key.type()) {
    case Value::Type::Boolean:
      return locate_boolean(key.as_boolean());
    case Value::Type::Number:
      return locate_number(key.as_number());
    case Value::Type::String:
      return locate_string(key.as_string());
    default:
      return npos;
  }
}

const Value* Table::find(const Value& key) const {
  std::size_t i = locate(key);
  return i == npos ? nullptr : &entries_[i].second;
}

const Value* Table::find(std::string_view key) const {
  std::size_t i = locate_string(key);
  return i == npos ? nullptr : &entries_[i].second;
}

const Value* Table::find_number(double key) const {
  std::size_t i = locate_number(key);
  return i == npos ? nullptr : &entries_[i].second;
}

void Table::index_entry(std::size_t position) {
  const Value& key = entries_[position].first;
  switch (key.type()) {
    case Value::Type::Boolean:
      index_->booleans[key.as_boolean() ? 1 : 0] = position;
      break;
    case Value::Type::Number:
      index_->numbers.emplace(normalize_key(key.as_number()), position);
      break;
    case Value::Type::String:
      index_->strings.emplace(key.as_string(), position);
      break;
    default:
      break;
  }
}

void Table::rebuild_index() {
  if (entries_.size() <= kLinearScanLimit) {
    index_.reset();
    return;
  }
  index_ = std::make_unique<Index>();
  for (std::size_t i = 0; i < entries_.size(); ++i) index_entry(i);
}

void Table::assign(Value key, Value value) {
  std::size_t i = locate(key);
  if (i != npos) {
    entries_[i].second = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
  if (index_) {
    index_entry(entries_.size() - 1);
  } else if (entries_.size() > kLinearScanLimit) {
    rebuild_index();
  }
}

void Table::drop_nils() {
  if (std::erase_if(entries_, [](const Entry& e) { return e.second.is_nil(); }) > 0) {
    rebuild_index();
  }
}

void Table::set(Value key, Value value) {
  if (key.is_nil()) throw std::invalid_argument("table key is nil");
  if (key.is_number() && std::isnan(key.as_number())) {
    throw std::invalid_argument("table key is NaN");
  }
  if (key.is_table()) throw std::invalid_argument("tables as table keys are not supported");
  if (value.is_nil()) {
    std::size_t i = locate(key);
    if (i != npos) {
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      rebuild_index();
    }
    return;
  }
  assign(std::move(key), std::move(value));
}

bool operator==(const Table& a, const Table& b) {
  if (a.size() != b.size()) return false;
  return std::all_of(a.begin(), a.end(), [&](const Table::Entry& e) {
    const Value* other = b.find(e.first);
    return other != nullptr && *other == e.second;
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

// A lexer and recursive-descent parser in one; recursion only through nested tables, which is
// bounded by kMaxDepth. A friend of Table, to assign keys in one pass (see Table::assign).
class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : src_(text), source_(source) {}

  Variables parse_file() {
    // A UTF-8 byte order mark, as editors on Windows like to add, is not Lua but is harmless.
    if (src_.starts_with("\xEF\xBB\xBF")) pos_ = line_start_ = 3;
    advance();
    Variables vars;
    std::map<std::string, std::size_t, std::less<>> position_of;
    while (tok_.kind != Tok::End) {
      if (tok_.kind == Tok::Semicolon) {
        advance();
        continue;
      }
      if (tok_.kind != Tok::Name) fail_at(tok_, "expected a variable name, got " + describe(tok_));
      std::string name = std::move(tok_.text);
      advance();
      if (tok_.kind != Tok::Assign) {
        fail_at(tok_, "expected '=' after " + snippet(name) + ", got " + describe(tok_));
      }
      advance();
      Value value = parse_value(0);
      auto [it, inserted] = position_of.try_emplace(name, vars.size());
      if (inserted) {
        vars.emplace_back(std::move(name), std::move(value));
      } else {
        vars[it->second].second = std::move(value);
      }
    }
    std::erase_if(vars, [](const auto& var) { return var.second.is_nil(); });
    return vars;
  }

 private:
  enum class Tok {
    End,
    Name,
    Keyword,
    Nil,
    True,
    False,
    Number,
    String,
    Assign,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Semicolon,
    Minus,
  };

  struct Token {
    Tok kind = Tok::End;
    std::size_t start = 0, end = 0, line = 1, column = 1;
    double number = 0;
    std::string text;  // a name, or a string's contents
  };

  // The byte at i, or -1 past the end (NUL is an ordinary byte here).
  int at(std::size_t i) const { return i < src_.size() ? static_cast<unsigned char>(src_[i]) : -1; }
  std::size_t column() const { return pos_ - line_start_ + 1; }

  [[noreturn]] void fail(const std::string& problem, std::size_t line, std::size_t col) const {
    throw ParseError(std::string(source_) + ":" + std::to_string(line) + ":" + std::to_string(col) +
                         ": " + problem,
                     line, col);
  }
  [[noreturn]] void fail_at(const Token& t, const std::string& problem) const {
    fail(problem, t.line, t.column);
  }

  // Quoted, shortened so a megabyte-long name cannot swamp an error message.
  static std::string snippet(std::string_view text) {
    constexpr std::size_t kMax = 32;
    return "'" + std::string(text.substr(0, kMax)) + (text.size() > kMax ? "...'" : "'");
  }

  std::string describe(const Token& t) const {
    std::string_view text = src_.substr(t.start, t.end - t.start);
    switch (t.kind) {
      case Tok::End:
        return "end of file";
      case Tok::String:
        return "a string";
      case Tok::Number:
        return "the number " + snippet(text);
      case Tok::Keyword:
      case Tok::Nil:
      case Tok::True:
      case Tok::False:
        return "the keyword " + snippet(text);
      case Tok::Name:
        return "the name " + snippet(text);
      default:
        return snippet(text);
    }
  }

  // Consumes one line break; \r\n and \n\r count once, as in Lua.
  void newline() {
    int first = at(pos_++);
    int second = at(pos_);
    if ((second == '\n' || second == '\r') && second != first) ++pos_;
    ++line_;
    line_start_ = pos_;
  }

  // The level of a long bracket `[==[` opening at pos_, or -1 if there is none.
  long long long_bracket_level() const {
    std::size_t p = pos_ + 1;
    while (at(p) == '=') ++p;
    return at(p) == '[' ? static_cast<long long>(p - pos_ - 1) : -1;
  }

  // Reads a long string or comment from its opening bracket; keeps the text only if asked.
  // The first line break right after the opening bracket is skipped, as in Lua.
  void read_long(long long level, std::string* out, std::string_view what) {
    std::size_t line = line_, col = column();
    pos_ += static_cast<std::size_t>(level) + 2;
    if (at(pos_) == '\n' || at(pos_) == '\r') newline();
    while (true) {
      int c = at(pos_);
      if (c < 0) fail("unterminated " + std::string(what) + " (reached end of file)", line, col);
      if (c == ']') {
        std::size_t p = pos_ + 1;
        while (at(p) == '=') ++p;
        if (at(p) == ']' && static_cast<long long>(p - pos_ - 1) == level) {
          pos_ = p + 1;
          return;
        }
        // Keep only the ']' so a following ']' can still start the closing bracket.
        ++pos_;
        if (out) out->push_back(']');
      } else if (c == '\n' || c == '\r') {
        newline();
        if (out) out->push_back('\n');
      } else {
        ++pos_;
        if (out) out->push_back(static_cast<char>(c));
      }
      if (out && out->size() > kMaxStringBytes) {
        fail("string longer than " + std::to_string(kMaxStringBytes) + " bytes", line, col);
      }
    }
  }

  void skip_space_and_comments() {
    while (true) {
      int c = at(pos_);
      if (c == ' ' || c == '\t' || c == '\v' || c == '\f') {
        ++pos_;
      } else if (c == '\n' || c == '\r') {
        newline();
      } else if (c == '-' && at(pos_ + 1) == '-') {
        pos_ += 2;
        long long level = at(pos_) == '[' ? long_bracket_level() : -1;
        if (level >= 0) {
          read_long(level, nullptr, "long comment");
        } else {
          while (at(pos_) >= 0 && at(pos_) != '\n' && at(pos_) != '\r') ++pos_;
        }
      } else {
        return;
      }
    }
  }

  void read_quoted(Token& t) {
    int quote = at(pos_++);
    while (true) {
      int c = at(pos_);
      if (c < 0) fail_at(t, "unterminated string (reached end of file)");
      if (c == '\n' || c == '\r') fail_at(t, "unterminated string (line break inside quotes)");
      if (c == quote) {
        ++pos_;
        return;
      }
      if (c == '\\') {
        read_escape(t);
      } else {
        t.text.push_back(static_cast<char>(c));
        ++pos_;
      }
      if (t.text.size() > kMaxStringBytes) {
        fail_at(t, "string longer than " + std::to_string(kMaxStringBytes) + " bytes");
      }
    }
  }

  // pos_ is at a backslash inside a quoted string.
  void read_escape(Token& t) {
    std::size_t line = line_, col = column();
    int c = at(++pos_);
    char simple = 0;
    switch (c) {
      case 'a':
        simple = '\a';
        break;
      case 'b':
        simple = '\b';
        break;
      case 'f':
        simple = '\f';
        break;
      case 'n':
        simple = '\n';
        break;
      case 'r':
        simple = '\r';
        break;
      case 't':
        simple = '\t';
        break;
      case 'v':
        simple = '\v';
        break;
      case '\\':
        simple = '\\';
        break;
      case '"':
        simple = '"';
        break;
      case '\'':
        simple = '\'';
        break;
      default:
        break;
    }
    if (simple != 0) {
      t.text.push_back(simple);
      ++pos_;
    } else if (c == '\n' || c == '\r') {
      // A backslash before a line break is a line break (how %q writes one).
      newline();
      t.text.push_back('\n');
    } else if (is_digit(c)) {
      int value = 0;
      std::size_t digits = 0;
      for (; digits < 3 && is_digit(at(pos_)); ++digits) value = value * 10 + (at(pos_++) - '0');
      if (value > 255) {
        fail("escape sequence '\\" + std::string(src_.substr(pos_ - digits, digits)) +
                 "' is larger than 255",
             line, col);
      }
      t.text.push_back(static_cast<char>(value));
    } else if (c < 0) {
      fail_at(t, "unterminated string (reached end of file)");
    } else if (c > 0x20 && c < 0x7F) {
      fail("invalid escape sequence '\\" + std::string(1, static_cast<char>(c)) + "'", line, col);
    } else {
      fail("invalid escape sequence: backslash before byte " + hex_byte(c), line, col);
    }
  }

  static std::string hex_byte(int c) {
    constexpr char kHex[] = "0123456789ABCDEF";
    return std::string("0x") + kHex[(c >> 4) & 0xF] + kHex[c & 0xF];
  }

  // Lua's numeral: digits, dots, letters and underscores, and a sign right after a decimal
  // exponent's 'e'; then it must be a hex integer or a decimal number.
  void read_number(Token& t) {
    bool hex = at(pos_) == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X');
    while (is_name_char(at(pos_)) || at(pos_) == '.') {
      int c = at(pos_++);
      if (!hex && (c == 'e' || c == 'E') && (at(pos_) == '+' || at(pos_) == '-')) ++pos_;
    }
    std::string_view text = src_.substr(t.start, pos_ - t.start);
    t.number = hex ? hex_value(t, text.substr(2)) : decimal_value(t, text);
  }

  double hex_value(const Token& t, std::string_view digits) const {
    if (digits.empty() ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return is_hex_digit(c); })) {
      fail_at(t, "malformed number " + snippet(src_.substr(t.start, pos_ - t.start)));
    }
    std::uint64_t value = 0;
    // A 64-bit accumulator converts with one correct rounding; longer hex numbers are refused.
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
    if (ec != std::errc()) {
      fail_at(t, "hex number " + snippet(src_.substr(t.start, pos_ - t.start)) +
                     " does not fit in 64 bits");
    }
    return static_cast<double>(value);
  }

  double decimal_value(const Token& t, std::string_view text) const {
    // digits [. digits] [e [sign] digits], with at least one mantissa digit.
    std::size_t i = 0, mantissa_digits = 0, integer_digits = 0, leading_fraction_zeros = 0;
    bool nonzero_seen = false;
    for (; i < text.size() && is_digit(text[i]); ++i, ++mantissa_digits) {
      if (text[i] != '0') nonzero_seen = true;
      if (nonzero_seen) ++integer_digits;
    }
    if (i < text.size() && text[i] == '.') {
      for (++i; i < text.size() && is_digit(text[i]); ++i, ++mantissa_digits) {
        if (text[i] != '0') nonzero_seen = true;
        if (!nonzero_seen) ++leading_fraction_zeros;
      }
    }
    long long exponent = 0;
    bool valid = mantissa_digits > 0;
    if (valid && i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      ++i;
      bool negative = i < text.size() && text[i] == '-';
      if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
      valid = i < text.size();
      for (; i < text.size() && is_digit(text[i]); ++i) {
        exponent = std::min(exponent * 10 + (text[i] - '0'), 1000000LL);  // saturate: 1e9999999...
      }
      if (negative) exponent = -exponent;
    }
    if (!valid || i != text.size()) fail_at(t, "malformed number " + snippet(text));
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
      // Out of range either way: tiny numbers round to 0 as in Lua, huge ones would be inf.
      long long magnitude = integer_digits > 0
                                ? static_cast<long long>(integer_digits) + exponent
                                : exponent - static_cast<long long>(leading_fraction_zeros);
      if (magnitude > 0) fail_at(t, "number " + snippet(text) + " is too large");
      return 0.0;
    }
    if (ec != std::errc() || end != text.data() + text.size()) {
      fail_at(t, "malformed number " + snippet(text));
    }
    return value;
  }

  void advance() {
    skip_space_and_comments();
    tok_ = Token{};
    tok_.start = pos_;
    tok_.line = line_;
    tok_.column = column();
    int c = at(pos_);
    if (c < 0) {
      tok_.kind = Tok::End;
    } else if (is_name_start(c)) {
      while (is_name_char(at(pos_))) ++pos_;
      std::string_view word = src_.substr(tok_.start, pos_ - tok_.start);
      if (word == "nil") {
        tok_.kind = Tok::Nil;
      } else if (word == "true") {
        tok_.kind = Tok::True;
      } else if (word == "false") {
        tok_.kind = Tok::False;
      } else if (is_keyword(word)) {
        tok_.kind = Tok::Keyword;
      } else {
        tok_.kind = Tok::Name;
        tok_.text = std::string(word);
      }
    } else if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) {
      tok_.kind = Tok::Number;
      read_number(tok_);
    } else if (c == '"' || c == '\'') {
      tok_.kind = Tok::String;
      read_quoted(tok_);
    } else if (c == '[') {
      long long level = long_bracket_level();
      if (level >= 0) {
        tok_.kind = Tok::String;
        read_long(level, &tok_.text, "long string");
      } else if (at(pos_ + 1) == '=') {
        fail("invalid long string delimiter", line_, column());
      } else {
        tok_.kind = Tok::LBracket;
        ++pos_;
      }
    } else {
      switch (c) {
        case '=':
          tok_.kind = Tok::Assign;
          break;
        case '{':
          tok_.kind = Tok::LBrace;
          break;
        case '}':
          tok_.kind = Tok::RBrace;
          break;
        case ']':
          tok_.kind = Tok::RBracket;
          break;
        case ',':
          tok_.kind = Tok::Comma;
          break;
        case ';':
          tok_.kind = Tok::Semicolon;
          break;
        case '-':
          tok_.kind = Tok::Minus;
          break;
        default:
          if (c > 0x20 && c < 0x7F) {
            fail("unexpected character '" + std::string(1, static_cast<char>(c)) + "'", line_,
                 column());
          }
          fail("unexpected byte " + hex_byte(c), line_, column());
      }
      ++pos_;
    }
    tok_.end = pos_;
  }

  // depth: how many tables enclose the value.
  Value parse_value(int depth) {
    Value value;
    switch (tok_.kind) {
      case Tok::Nil:
        break;
      case Tok::True:
        value = true;
        break;
      case Tok::False:
        value = false;
        break;
      case Tok::Number:
        value = tok_.number;
        break;
      case Tok::String:
        value = std::move(tok_.text);
        break;
      case Tok::Minus:
        advance();
        if (tok_.kind != Tok::Number) {
          fail_at(tok_, "expected a number after '-', got " + describe(tok_));
        }
        value = -tok_.number;
        break;
      case Tok::LBrace:
        return parse_table(depth + 1);
      default:
        fail_at(tok_, "expected a value, got " + describe(tok_));
    }
    advance();
    return value;
  }

  // tok_ is the '{' of a table at nesting level `depth` (the outermost is 1).
  Table parse_table(int depth) {
    const Token open = tok_;
    if (depth > kMaxDepth) {
      fail_at(open, "tables nested " + std::to_string(depth) + " levels deep (the limit is " +
                        std::to_string(kMaxDepth) + ")");
    }
    advance();
    Table table;
    double next_index = 1;  // positional fields take 1, 2, 3..., even when nil
    while (tok_.kind != Tok::RBrace) {
      if (tok_.kind == Tok::LBracket) {
        advance();
        const Token key_start = tok_;
        Value key = parse_value(depth);
        if (key.is_nil()) fail_at(key_start, "table index is nil");
        if (key.is_table()) fail_at(key_start, "tables as table keys are not supported");
        if (tok_.kind != Tok::RBracket) {
          fail_at(tok_, "expected ']' after key, got " + describe(tok_));
        }
        advance();
        if (tok_.kind != Tok::Assign) {
          fail_at(tok_, "expected '=' after key, got " + describe(tok_));
        }
        advance();
        Value value = parse_value(depth);
        table.assign(std::move(key), std::move(value));
      } else if (tok_.kind == Tok::Name) {
        std::string name = std::move(tok_.text);
        advance();
        if (tok_.kind != Tok::Assign) {
          fail_at(tok_, "expected '=' after key " + snippet(name) + ", got " + describe(tok_));
        }
        advance();
        Value value = parse_value(depth);
        table.assign(std::move(name), std::move(value));
      } else {
        Value value = parse_value(depth);
        table.assign(next_index, std::move(value));
        next_index += 1;
      }
      if (tok_.kind == Tok::Comma || tok_.kind == Tok::Semicolon) {
        advance();
      } else if (tok_.kind != Tok::RBrace) {
        std::string opened =
            "the '{' at " + std::to_string(open.line) + ":" + std::to_string(open.column);
        if (tok_.kind == Tok::End) {
          fail_at(tok_, "expected '}' to close " + opened + ", got end of file");
        }
        fail_at(tok_, "expected ',' or '}' after a field of " + opened + ", got " + describe(tok_));
      }
    }
    advance();
    table.drop_nils();
    return table;
  }

  std::string_view src_;
  std::string_view source_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t line_start_ = 0;
  Token tok_;
};

Variables parse(std::string_view text, std::string_view source_name) {
  return Parser(text, source_name).parse_file();
}

// ---------------------------------------------------------------------------------------------
// Writing

namespace {

// Integral numbers below 2^53 as integers; otherwise the shortest %.15g/%.16g/%.17g that reads
// back as the same double. to_chars, unlike printf, ignores the C locale's decimal point.
std::string format_number(double x) {
  char buf[64];
  if (x == std::trunc(x) && std::fabs(x) < kMaxExactInteger) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(x));
    return std::string(buf, end);
  }
  for (int precision : {15, 16}) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, precision);
    double back = 0;
    std::from_chars(buf, end, back);
    if (back == x) return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, 17);
  return std::string(buf, end);
}

// A double-quoted string that reads back byte for byte. Control bytes become three-digit \ddd
// so a following digit cannot extend the escape; bytes >= 0x80 are written as they are.
void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + c / 100));
      out.push_back(static_cast<char>('0' + c / 10 % 10));
      out.push_back(static_cast<char>('0' + c % 10));
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

std::string describe_non_finite(double x) {
  if (std::isnan(x)) return "a NaN";
  return x > 0 ? "inf" : "-inf";
}

// Key order after the array part: numbers ascending, then strings by bytes, then false, true.
int key_rank(const Value& key) {
  switch (key.type()) {
    case Value::Type::Number:
      return 0;
    case Value::Type::String:
      return 1;
    default:
      return 2;
  }
}

bool key_less(const Value& a, const Value& b) {
  int ra = key_rank(a), rb = key_rank(b);
  if (ra != rb) return ra < rb;
  switch (a.type()) {
    case Value::Type::Number:
      return a.as_number() < b.as_number();
    case Value::Type::String:
      return a.as_string() < b.as_string();  // char_traits: unsigned bytes
    default:
      return !a.as_boolean() && b.as_boolean();
  }
}

class Writer {
 public:
  explicit Writer(std::string_view name) : name_(name) {}

  std::string run(const Value& value) {
    if (!is_identifier(name_)) {
      throw WriteError("cannot save a variable named " + std::string(name_) +
                       ": not a Lua identifier");
    }
    out_ += name_;
    out_ += " = ";
    write_value(value, 0);
    out_.push_back('\n');
    return std::move(out_);
  }

 private:
  // A step from the variable to the value being written: an array index or a key.
  struct Step {
    const Value* key;  // null for an array index
    double index;
  };

  [[noreturn]] void fail(const std::string& problem) const {
    std::string path(name_);
    for (const Step& step : path_) {
      if (!step.key) {
        path += "[" + format_number(step.index) + "]";
      } else if (step.key->is_string() && is_identifier(step.key->as_string())) {
        path += "." + step.key->as_string();
      } else if (step.key->is_string()) {
        path += "[";
        append_quoted(path, step.key->as_string());
        path += "]";
      } else if (step.key->is_number()) {
        double k = step.key->as_number();
        path += "[" + (std::isfinite(k) ? format_number(k) : describe_non_finite(k)) + "]";
      } else {
        path += step.key->as_boolean() ? "[true]" : "[false]";
      }
    }
    throw WriteError(path + ": " + problem);
  }

  void indent(int level) { out_.append(static_cast<std::size_t>(level), '\t'); }

  void write_number(double x, const char* what) {
    if (!std::isfinite(x)) fail(std::string("cannot save ") + what + describe_non_finite(x));
    out_ += format_number(x);
  }

  // depth: how many tables enclose the value.
  void write_value(const Value& value, int depth) {
    switch (value.type()) {
      case Value::Type::Nil:
        out_ += "nil";
        break;
      case Value::Type::Boolean:
        out_ += value.as_boolean() ? "true" : "false";
        break;
      case Value::Type::Number:
        write_number(value.as_number(), "");
        break;
      case Value::Type::String:
        write_string(value.as_string());
        break;
      case Value::Type::Table:
        write_table(value.as_table(), depth + 1);
        break;
    }
  }

  void write_string(const std::string& s) {
    if (s.size() > kMaxStringBytes) {
      fail("cannot save a string of " + std::to_string(s.size()) + " bytes (the limit is " +
           std::to_string(kMaxStringBytes) + ")");
    }
    append_quoted(out_, s);
  }

  // level: the table's nesting level (the outermost is 1), which is also its fields' indent.
  void write_table(const Table& table, int level) {
    if (level > kMaxDepth) {
      fail("cannot save tables nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    out_ += "{\n";
    std::size_t array_length = 0;
    while (table.find(array_length + 1)) ++array_length;
    for (std::size_t i = 1; i <= array_length; ++i) {
      indent(level);
      path_.push_back({nullptr, static_cast<double>(i)});
      write_value(*table.find(i), level);
      path_.pop_back();
      out_ += ", -- [" + std::to_string(i) + "]\n";
    }
    std::vector<const Table::Entry*> rest;
    for (const Table::Entry& entry : table) {
      const Value& key = entry.first;
      bool in_array = key.is_number() && key.as_number() >= 1 &&
                      key.as_number() <= static_cast<double>(array_length) &&
                      key.as_number() == std::trunc(key.as_number());
      if (!in_array) rest.push_back(&entry);
    }
    std::sort(rest.begin(), rest.end(), [](const Table::Entry* a, const Table::Entry* b) {
      return key_less(a->first, b->first);
    });
    for (const Table::Entry* entry : rest) {
      indent(level);
      out_.push_back('[');
      const Value& key = entry->first;
      if (key.is_number()) {
        write_number(key.as_number(), "the table key ");
      } else if (key.is_string()) {
        write_string(key.as_string());
      } else {
        out_ += key.as_boolean() ? "true" : "false";
      }
      out_ += "] = ";
      path_.push_back({&key, 0});
      write_value(entry->second, level);
      path_.pop_back();
      out_ += ",\n";
    }
    indent(level - 1);
    out_.push_back('}');
  }

  std::string_view name_;
  std::string out_;
  std::vector<Step> path_;
};

}  // namespace

std::string write(std::string_view name, const Value& value) {
  return Writer(name).run(value);
}

std::string write_file_contents(const Variables& variables) {
  std::string out;
  for (const auto& [name, value] : variables) {
    if (!value.is_nil()) out += write(name, value);
  }
  return out;
}

}  // namespace tally::savedvars
