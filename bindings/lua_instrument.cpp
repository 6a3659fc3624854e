// Budget-check instrumentation of Lua source: a LuaJIT-exact lexer and a token-level rewrite.
#include "bindings/lua_instrument.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tally {
namespace {

enum class Kind : unsigned char { Name, String, Number, Symbol, End };

// 24 bytes: a source can be one token per byte, and every token is kept until the rewrite.
struct Token {
  std::string_view text;  // a view of the source; End's is empty, at the end of the source
  int line;
  Kind kind;
};

// Thrown inside this file only; instrument_lua_source turns it into a result.
struct SyntaxError {
  int line;
  std::string what;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// LuaJIT takes every byte from 0x80 up as an identifier character (UTF-8 names).
bool is_ident(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool is_newline(char c) {
  return c == '\n' || c == '\r';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || is_newline(c);
}

// Lua 5.1's reserved words; `goto` is not one in LuaJIT, only a statement when a name follows.
bool is_keyword(std::string_view s) {
  static constexpr std::array<std::string_view, 21> kWords = {
      "and", "break",    "do",     "else", "elseif", "end",   "false",
      "for", "function", "if",     "in",   "local",  "nil",   "not",
      "or",  "repeat",   "return", "then", "true",   "until", "while"};
  for (auto w : kWords) {
    if (w == s) return true;
  }
  return false;
}

// Splits source into tokens the way LuaJIT's lexer does, so that a keyword is never seen inside
// a string or comment and never missed outside them.
class Lexer {
 public:
  Lexer(std::string_view source, std::size_t start) : s_(source), p_(start) {}

  // Lexes twice: first to count, so the token array is allocated once at its exact size.
  std::vector<Token> run() {
    std::size_t count = 0;
    Lexer(*this).each([&](const Token&) { ++count; });
    std::vector<Token> tokens;
    tokens.reserve(count);
    each([&](const Token& t) { tokens.push_back(t); });
    return tokens;
  }

  // The source ends inside a `--` comment, so nothing may follow on its last line.
  bool ends_in_line_comment() const { return ends_in_line_comment_; }

 private:
  // Calls emit with every token, then with the End token.
  template <typename Emit>
  void each(Emit emit) {
    for (;;) {
      skip_space_and_comments();
      if (p_ >= s_.size()) break;
      const std::size_t begin = p_;
      const int line = line_;
      const Kind kind = scan();
      emit(Token{s_.substr(begin, p_ - begin), line, kind});
    }
    emit(Token{s_.substr(p_, 0), line_, Kind::End});
  }

  char at(std::size_t i) const { return i < s_.size() ? s_[i] : '\0'; }
  bool more() const { return p_ < s_.size(); }
  [[noreturn]] void fail(std::string what) const { throw SyntaxError{line_, std::move(what)}; }

  // One line break: \n, \r, \r\n or \n\r, as Lua counts them.
  void newline() {
    const char first = s_[p_++];
    if (more() && is_newline(s_[p_]) && s_[p_] != first) ++p_;
    ++line_;
  }

  void skip_space_and_comments() {
    while (more()) {
      const char c = s_[p_];
      if (is_newline(c)) {
        newline();
      } else if (is_space(c)) {
        ++p_;
      } else if (c == '-' && at(p_ + 1) == '-') {
        p_ += 2;
        if (at(p_) == '[' && bracket_level() >= 0) {
          long_bracket("unfinished long comment");
        } else {
          while (more() && !is_newline(s_[p_])) ++p_;
          ends_in_line_comment_ = !more();
        }
      } else {
        return;
      }
    }
  }

  // At '[' or ']': the number of '=' after it if the same bracket follows them, else
  // -(count + 1). Consumes nothing.
  int bracket_level() const {
    std::size_t q = p_ + 1;
    while (at(q) == '=') ++q;
    const int count = static_cast<int>(q - p_ - 1);
    return at(q) == s_[p_] ? count : -count - 1;
  }

  // At a long bracket opening: skips to just past its matching closing bracket.
  void long_bracket(const char* unfinished) {
    const int level = bracket_level();
    p_ += static_cast<std::size_t>(level) + 2;
    while (more()) {
      const char c = s_[p_];
      if (c == ']') {
        if (bracket_level() == level) {
          p_ += static_cast<std::size_t>(level) + 2;
          return;
        }
        // A mismatched "]==" is content; the char after it may start the real closing bracket.
        ++p_;
        while (at(p_) == '=') ++p_;
      } else if (is_newline(c)) {
        newline();
      } else {
        ++p_;
      }
    }
    fail(unfinished);
  }

  void short_string() {
    const char quote = s_[p_++];
    for (;;) {
      if (!more() || is_newline(s_[p_])) fail("unfinished string");
      const char c = s_[p_];
      if (c == quote) {
        ++p_;
        return;
      }
      if (c != '\\') {
        ++p_;
        continue;
      }
      ++p_;
      if (!more()) fail("unfinished string");
      if (is_newline(s_[p_])) {
        newline();
      } else if (s_[p_++] == 'z') {
        while (more() && is_space(s_[p_])) {
          if (is_newline(s_[p_])) {
            newline();
          } else {
            ++p_;
          }
        }
      }
      // Any other escape is at least its next char; the ones longer than that (\ddd, \xXX,
      // \u{...}) hold no quote or newline when valid, and Lua rejects them when not.
    }
  }

  // LuaJIT's greedy scan: identifier chars, dots, and a sign right after an exponent letter
  // ('e', or 'p' in hex). Suffixes (LL, ULL, i) and malformed numbers end up in one token.
  void number() {
    const char first = s_[p_++];
    const char exponent = first == '0' && (at(p_) | 0x20) == 'x' ? 'p' : 'e';
    char prev = first;
    while (more()) {
      const char c = s_[p_];
      if (!is_ident(c) && c != '.' && !((c == '-' || c == '+') && (prev | 0x20) == exponent)) break;
      prev = c;
      ++p_;
    }
  }

  // One token starting at p_; advances past it.
  Kind scan() {
    const char c = s_[p_];
    if (is_digit(c)) {
      number();
      return Kind::Number;
    }
    if (is_ident(c)) {
      while (more() && is_ident(s_[p_])) ++p_;
      return Kind::Name;
    }
    switch (c) {
      case '"':
      case '\'':
        short_string();
        return Kind::String;
      case '[': {
        const int level = bracket_level();
        if (level >= 0) {
          long_bracket("unfinished long string");
          return Kind::String;
        }
        if (level < -1) fail("invalid long string delimiter");
        ++p_;
        return Kind::Symbol;
      }
      case '.':
        if (is_digit(at(p_ + 1))) {
          ++p_;  // LuaJIT scans ".5" as a number from its first digit on
          number();
          return Kind::Number;
        }
        p_ += at(p_ + 1) != '.' ? 1 : at(p_ + 2) == '.' ? 3 : 2;
        return Kind::Symbol;
      case '~':
        if (at(p_ + 1) != '=') fail("unexpected symbol '~'");
        p_ += 2;
        return Kind::Symbol;
      case '=':
      case '<':
      case '>':
        p_ += at(p_ + 1) == '=' ? 2 : 1;
        return Kind::Symbol;
      case ':':
        p_ += at(p_ + 1) == ':' ? 2 : 1;
        return Kind::Symbol;
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '^':
      case '#':
      case '(':
      case ')':
      case '{':
      case '}':
      case ']':
      case ';':
      case ',':
        ++p_;
        return Kind::Symbol;
      default:
        fail("unexpected character (byte " + std::to_string(static_cast<unsigned char>(c)) + ")");
    }
  }

  std::string_view s_;
  std::size_t p_;
  int line_ = 1;
  bool ends_in_line_comment_ = false;
};

bool is_symbol(const Token& t, std::string_view s) {
  return t.kind == Kind::Symbol && t.text == s;
}
bool is_word(const Token& t, std::string_view s) {
  return t.kind == Kind::Name && t.text == s;
}
bool is_plain_name(const Token& t) {
  return t.kind == Kind::Name && !is_keyword(t.text);
}

[[noreturn]] void fail_at(const Token& t, std::string_view what) {
  const std::string near = t.kind == Kind::End ? "<eof>" : "'" + std::string(t.text) + "'";
  throw SyntaxError{t.line, std::string(what) + " near " + near};
}

// Finds where the tick goes in every loop body, function body and label run.
class Rewriter {
 public:
  Rewriter(std::string_view source, const std::vector<Token>& tokens) : source_(source), t_(tokens) {}

  // Offsets in the source after which a tick is inserted, ascending.
  std::vector<std::size_t> tick_offsets() {
    // Anywhere, even as a field or label: an addon naming the factory's locals could reset them.
    for (const Token& tok : t_) {
      if (tok.kind == Kind::Name && tok.text.starts_with(kLuaReservedPrefix)) {
        fail_at(tok, "identifier reserved for the runtime");
      }
    }
    std::vector<std::size_t> ticks;
    int depth = 0;  // blocks open: function, do, if and repeat each take one end or until
    for (i_ = 0; t_[i_].kind != Kind::End; ++i_) {
      const Token& tok = t_[i_];
      if (is_word(tok, "do") || is_word(tok, "repeat")) {
        ++depth;
        ticks.push_back(end_of(tok));
      } else if (is_word(tok, "function")) {
        ++depth;
        ticks.push_back(function_header());
      } else if (is_word(tok, "if")) {
        ++depth;
      } else if (is_word(tok, "end") || is_word(tok, "until")) {
        if (--depth < 0) fail_at(tok, "no open block to close");
      } else if (is_symbol(tok, "::")) {
        if (label_run()) ticks.push_back(end_of(t_[i_]));
      }
    }
    if (depth != 0) fail_at(t_[i_], "'end' expected");
    return ticks;
  }

 private:
  // The offset just past the token in the source.
  std::size_t end_of(const Token& t) const {
    return static_cast<std::size_t>(t.text.data() - source_.data()) + t.text.size();
  }

  // Steps over the current token, which must be what `ok` says.
  void expect(bool ok, std::string_view what) {
    if (!ok) fail_at(t_[i_], what);
    ++i_;
  }

  // At `function`: skips `[name {. name} [: name]] ( params )` and returns the offset after ')'.
  // Leaves i_ on the ')'.
  std::size_t function_header() {
    ++i_;
    if (is_plain_name(t_[i_])) {
      ++i_;
      while (is_symbol(t_[i_], ".") || is_symbol(t_[i_], ":")) {
        const bool method = is_symbol(t_[i_], ":");
        ++i_;
        expect(is_plain_name(t_[i_]), "name expected in function name");
        if (method) break;
      }
    }
    expect(is_symbol(t_[i_], "("), "'(' expected");
    if (!is_symbol(t_[i_], ")")) {
      for (;;) {
        const bool vararg = is_symbol(t_[i_], "...");
        expect(vararg || is_plain_name(t_[i_]), "parameter expected");
        if (vararg || !is_symbol(t_[i_], ",")) break;
        ++i_;
      }
    }
    if (!is_symbol(t_[i_], ")")) fail_at(t_[i_], "')' expected");
    return end_of(t_[i_]);
  }

  // At `::`: skips one or more consecutive labels and the ';' that may end the last, leaving i_
  // on the last token. True when a statement follows them: a label that ends its block (before
  // end/else/elseif/<eof>) is out of the scope of the block's locals in LuaJIT, and a tick after
  // it would break `goto continue` over a local. No loop can come back to such a label, as nothing
  // but the block end follows it.
  bool label_run() {
    for (;;) {
      ++i_;
      expect(is_plain_name(t_[i_]), "label name expected");  // `goto` is a plain name here
      if (!is_symbol(t_[i_], "::")) fail_at(t_[i_], "'::' expected");
      if (!is_symbol(t_[i_ + 1], "::")) break;
      ++i_;
    }
    const Token& next = t_[i_ + 1];
    if (is_symbol(next, ";")) {
      ++i_;  // LuaJIT checks for the block end before the ';', so such a label never ends it
      return true;
    }
    return !(next.kind == Kind::End || is_word(next, "end") || is_word(next, "else") ||
             is_word(next, "elseif"));
  }

  std::string_view source_;
  const std::vector<Token>& t_;
  std::size_t i_ = 0;
};

// Where the Lua text starts: LuaJIT skips a UTF-8 byte-order mark and then a first line that
// starts with '#' (a Unix "#!" line). Both are dropped; the line break stays.
std::size_t header_length(std::string_view s) {
  std::size_t p = s.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  if (p < s.size() && s[p] == '#') {
    while (p < s.size() && !is_newline(s[p])) ++p;
  }
  return p;
}

}  // namespace

InstrumentedLua instrument_lua_source(std::string_view source) {
  InstrumentedLua result;
  const std::size_t start = header_length(source);
  try {
    Lexer lexer(source, start);
    // The tokens are freed before the output is built: the two are the instrumenter's peaks.
    const std::vector<std::size_t> ticks = Rewriter(source, lexer.run()).tick_offsets();

    std::string& out = result.code;
    out.reserve(kLuaInstrumentPrefix.size() + source.size() +
                ticks.size() * (kLuaBudgetTick.size() + 2) + 4);
    out += kLuaInstrumentPrefix;
    std::size_t copied = start;
    for (const std::size_t at : ticks) {
      out.append(source, copied, at - copied);
      out += ' ';
      out += kLuaBudgetTick;
      out += ' ';
      copied = at;
    }
    out.append(source, copied);
    // Closes the main function; after a final `--` comment it needs a line of its own.
    out += lexer.ends_in_line_comment() ? "\nend" : " end";
    result.ok = true;
  } catch (const SyntaxError& e) {
    result.code.clear();
    result.error = "line " + std::to_string(e.line) + ": " + e.what;
  }
  return result;
}

void RunawayGuard::arm(Clock::time_point deadline, Clock::time_point now) {
  deadline_ = deadline;
  last_check_ = now;
  budget_ = kFirstBudget;
  armed_ = true;
  expired_ = false;
  out_of_memory_ = false;
}

bool RunawayGuard::disarm() {
  armed_ = false;
  return expired_;
}

std::int64_t RunawayGuard::next_budget(Clock::time_point now) {
  if (out_of_memory_) return 0;
  if (expired_ || !armed_ || now >= deadline_) {
    expired_ = true;
    return 0;
  }
  // Scale the budget to how long the last one took: down in one step, up by doubling.
  const Clock::duration took = now - last_check_;
  last_check_ = now;
  if (took > kCheckInterval) {
    budget_ = std::max<std::int64_t>(1, budget_ * kCheckInterval.count() / took.count());
  } else if (took < kCheckInterval / 2) {
    budget_ = std::min(kMaxBudget, budget_ * 2);
  }
  return budget_;
}

}  // namespace tally
