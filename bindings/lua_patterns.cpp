// A Lua 5.1 pattern matcher that counts its steps (see lua_patterns.hpp). The semantics follow
// LuaJIT 2.1's string library, quirks included: a pattern ends at its first NUL, classes are
// ASCII-only, gmatch gives `^` no meaning, an init past the end is clamped to the end.
#include "bindings/lua_patterns.hpp"

#include <lua.hpp>

#include "bindings/call_limits.hpp"

#include <cstddef>
#include <cstring>
#include <string_view>
#include <utility>

namespace tally {

namespace {

constexpr int kMaxCaptures = 32;       // LUA_MAXCAPTURES
constexpr int kMaxMatchDepth = 200;    // LuaJIT's bound on the matcher's recursion
constexpr int kStepsPerCheck = 4096;   // steps between two looks at the clock (a few µs)
constexpr std::ptrdiff_t kUnfinished = -1;
constexpr std::ptrdiff_t kPosition = -2;
constexpr char kEscape = '%';
constexpr std::string_view kSpecials = "^$*+?.([%-";

bool is_lower(unsigned c) { return c >= 'a' && c <= 'z'; }
bool is_upper(unsigned c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }
bool is_alnum(unsigned c) { return is_lower(c) || is_upper(c) || is_digit(c); }
bool is_graph(unsigned c) { return c > 32 && c < 127; }

// Whether c is in the class `%cls`; a letter that names no class stands for itself.
bool class_matches(unsigned c, unsigned cls) {
  bool is = false;
  switch (is_upper(cls) ? cls + ('a' - 'A') : cls) {
    case 'a': is = is_lower(c) || is_upper(c); break;
    case 'c': is = c < 32 || c == 127; break;
    case 'd': is = is_digit(c); break;
    case 'g': is = is_graph(c); break;
    case 'l': is = is_lower(c); break;
    case 'p': is = is_graph(c) && !is_alnum(c); break;
    case 's': is = c == ' ' || (c >= 9 && c <= 13); break;
    case 'u': is = is_upper(c); break;
    case 'w': is = is_alnum(c); break;
    case 'x': is = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); break;
    case 'z': is = c == 0; break;
    default: return cls == c;
  }
  return is_upper(cls) ? !is : is;
}

// Whether c is in the set `[...]` from `open` (the '[') to `close` (its ']').
bool set_matches(unsigned c, const char* open, const char* close) {
  const char* p = open + 1;
  bool negated = *p == '^';
  if (negated) ++p;
  for (; p < close; ++p) {
    if (*p == kEscape) {
      ++p;
      if (class_matches(c, static_cast<unsigned char>(*p))) return !negated;
    } else if (p[1] == '-' && p + 2 < close) {
      if (static_cast<unsigned char>(p[0]) <= c && c <= static_cast<unsigned char>(p[2])) return !negated;
      p += 2;
    } else if (static_cast<unsigned char>(*p) == c) {
      return !negated;
    }
  }
  return negated;
}

struct Capture {
  const char* start;
  std::ptrdiff_t len;  // or kUnfinished, kPosition
};

class Matcher {
 public:
  Matcher(lua_State* L, CallLimits& limits, const char* subject, std::size_t subject_len, const char* pattern)
      : L_(L), limits_(limits), subject_(subject), subject_end_(subject + subject_len),
        pattern_end_(pattern + std::strlen(pattern)) {}

  // The end of a match of `p` starting at `s`, or nullptr.
  const char* match_at(const char* s, const char* p) {
    level_ = 0;
    depth_ = 0;
    return match(s, p);
  }

  const char* subject() const { return subject_; }
  const char* subject_end() const { return subject_end_; }
  int level() const { return level_; }

  // Capture i of the match s..e (the whole match when the pattern has no captures and i is 0).
  void push_capture(int i, const char* s, const char* e) {
    if (i >= level_) {
      if (i != 0) luaL_error(L_, "invalid capture index");
      lua_pushlstring(L_, s, static_cast<std::size_t>(e - s));
      return;
    }
    const Capture& c = captures_[i];
    if (c.len == kUnfinished) luaL_error(L_, "unfinished capture");
    if (c.len == kPosition) {
      lua_pushinteger(L_, static_cast<lua_Integer>(c.start - subject_ + 1));
    } else {
      lua_pushlstring(L_, c.start, static_cast<std::size_t>(c.len));
    }
  }

  // Pushes the captures (or the whole match when there are none and s is given); how many.
  int push_captures(const char* s, const char* e) {
    int n = (level_ == 0 && s != nullptr) ? 1 : level_;
    luaL_checkstack(L_, n, "too many captures");
    for (int i = 0; i < n; ++i) push_capture(i, s, e);
    return n;
  }

  void step(int count = 1) {
    steps_left_ -= count;
    if (steps_left_ <= 0) {
      steps_left_ = kStepsPerCheck;
      check_runaway(L_, limits_);
    }
  }

 private:
  // The end of the single-character class at p ('x', '%x' or '[...]').
  const char* class_end(const char* p) {
    char c = *p++;
    if (c == kEscape) {
      if (p >= pattern_end_) luaL_error(L_, "malformed pattern (ends with '%%')");
      return p + 1;
    }
    if (c != '[') return p;
    if (p < pattern_end_ && *p == '^') ++p;
    do {  // the first character after '[' or '[^' is always a member, even ']'
      if (p >= pattern_end_) luaL_error(L_, "malformed pattern (missing ']')");
      if (*p++ == kEscape && p < pattern_end_) ++p;
    } while (p >= pattern_end_ || *p != ']');
    return p + 1;
  }

  bool single_matches(const char* s, const char* p, const char* class_end) const {
    if (s >= subject_end_) return false;
    unsigned c = static_cast<unsigned char>(*s);
    switch (*p) {
      case '.': return true;
      case kEscape: return class_matches(c, static_cast<unsigned char>(p[1]));
      case '[': return set_matches(c, p, class_end - 1);
      default: return static_cast<unsigned char>(*p) == c;
    }
  }

  // %bxy at s (p points at x).
  const char* match_balance(const char* s, const char* p) {
    if (pattern_end_ - p < 2) luaL_error(L_, "unbalanced pattern");
    if (s >= subject_end_ || *s != p[0]) return nullptr;
    int open = 1;
    while (++s < subject_end_) {
      if ((s - subject_) % 256 == 0) step();
      if (*s == p[1]) {
        if (--open == 0) return s + 1;
      } else if (*s == p[0]) {
        ++open;
      }
    }
    return nullptr;
  }

  // Greedy: as many repetitions as match, then fewer until the rest matches.
  const char* max_expand(const char* s, const char* p, const char* ep) {
    std::ptrdiff_t n = 0;
    while (single_matches(s + n, p, ep)) {
      ++n;
      step();
    }
    for (; n >= 0; --n) {
      if (const char* end = match(s + n, ep + 1)) return end;
    }
    return nullptr;
  }

  // Lazy: as few repetitions as let the rest match.
  const char* min_expand(const char* s, const char* p, const char* ep) {
    for (;;) {
      if (const char* end = match(s, ep + 1)) return end;
      if (!single_matches(s, p, ep)) return nullptr;
      ++s;
    }
  }

  const char* start_capture(const char* s, const char* p, std::ptrdiff_t kind) {
    if (level_ >= kMaxCaptures) luaL_error(L_, "too many captures");
    captures_[level_] = {s, kind};
    ++level_;
    const char* end = match(s, p);
    if (end == nullptr) --level_;
    return end;
  }

  const char* end_capture(const char* s, const char* p) {
    int open = level_ - 1;
    while (open >= 0 && captures_[open].len != kUnfinished) --open;
    if (open < 0) luaL_error(L_, "invalid pattern capture");
    captures_[open].len = s - captures_[open].start;
    const char* end = match(s, p);
    if (end == nullptr) captures_[open].len = kUnfinished;
    return end;
  }

  // %1-%9: the text of an earlier, closed capture again.
  const char* match_back_reference(const char* s, char digit) {
    int i = digit - '1';
    if (i < 0 || i >= level_ || captures_[i].len == kUnfinished) luaL_error(L_, "invalid capture index");
    std::ptrdiff_t len = captures_[i].len;
    if (len < 0 || subject_end_ - s < len) return nullptr;  // a position capture never matches
    step(static_cast<int>(len / 64));
    if (std::memcmp(captures_[i].start, s, static_cast<std::size_t>(len)) != 0) return nullptr;
    return s + len;
  }

  const char* match(const char* s, const char* p) {
    if (++depth_ > kMaxMatchDepth) luaL_error(L_, "pattern too complex");
    step();
    const char* result = match_items(s, p);
    --depth_;
    return result;
  }

  // The items from p on, matched at s; items that need no backtracking loop here.
  const char* match_items(const char* s, const char* p) {
    for (;;) {
      if (p == pattern_end_) return s;
      switch (*p) {
        case '(':
          if (p + 1 < pattern_end_ && p[1] == ')') return start_capture(s, p + 2, kPosition);
          return start_capture(s, p + 1, kUnfinished);
        case ')':
          return end_capture(s, p + 1);
        case '$':
          if (p + 1 == pattern_end_) return s == subject_end_ ? s : nullptr;
          break;
        case kEscape:
          if (p + 1 < pattern_end_ && p[1] == 'b') {
            s = match_balance(s, p + 2);
            if (s == nullptr) return nullptr;
            p += 4;
            continue;
          }
          if (p + 1 < pattern_end_ && p[1] == 'f') {
            p += 2;
            if (p >= pattern_end_ || *p != '[') luaL_error(L_, "missing '[' after '%%f' in pattern");
            const char* ep = class_end(p);
            unsigned before = s == subject_ ? 0 : static_cast<unsigned char>(s[-1]);
            unsigned at = s < subject_end_ ? static_cast<unsigned char>(*s) : 0;
            if (set_matches(before, p, ep - 1) || !set_matches(at, p, ep - 1)) return nullptr;
            p = ep;
            continue;
          }
          if (p + 1 < pattern_end_ && is_digit(static_cast<unsigned char>(p[1]))) {
            s = match_back_reference(s, p[1]);
            if (s == nullptr) return nullptr;
            p += 2;
            continue;
          }
          break;
        default:
          break;
      }
      // A single-character class, maybe with a repetition suffix.
      const char* ep = class_end(p);
      bool matched = single_matches(s, p, ep);
      char suffix = ep < pattern_end_ ? *ep : '\0';
      switch (suffix) {
        case '?':
          if (matched) {
            if (const char* end = match(s + 1, ep + 1)) return end;
          }
          p = ep + 1;
          continue;
        case '*': return max_expand(s, p, ep);
        case '+': return matched ? max_expand(s + 1, p, ep) : nullptr;
        case '-': return min_expand(s, p, ep);
        default:
          if (!matched) return nullptr;
          ++s;
          p = ep;
          step();
          continue;
      }
    }
  }

  lua_State* L_;
  CallLimits& limits_;
  const char* subject_;
  const char* subject_end_;
  const char* pattern_end_;
  Capture captures_[kMaxCaptures] = {};
  int level_ = 0;
  int depth_ = 0;
  int steps_left_ = kStepsPerCheck;
};

CallLimits& limits_of(lua_State* L) { return *call_limits_upvalue(L); }

// string.find's init: 1-based, negative from the end, clamped into 0..len (0-based).
std::size_t start_offset(lua_State* L, std::size_t len) {
  lua_Number init = luaL_optnumber(L, 3, 1);
  if (init != init) return 0;  // NaN: LuaJIT's conversion makes it the most negative int
  if (init >= static_cast<lua_Number>(len) + 1) return len;
  if (init <= -static_cast<lua_Number>(len)) return 0;
  auto start = static_cast<std::ptrdiff_t>(init);
  start = start < 0 ? start + static_cast<std::ptrdiff_t>(len) : start - 1;
  return start < 0 ? 0 : static_cast<std::size_t>(start);
}

// The first occurrence of needle in haystack, or nullptr; counts one step per candidate.
const char* find_plain(Matcher& m, const char* haystack, std::size_t len, const char* needle, std::size_t needle_len) {
  if (needle_len == 0) return haystack;
  if (needle_len > len) return nullptr;
  const char* last = haystack + (len - needle_len);
  for (const char* at = haystack; at <= last; ++at) {
    at = static_cast<const char*>(std::memchr(at, needle[0], static_cast<std::size_t>(last - at) + 1));
    if (at == nullptr) return nullptr;
    m.step(1 + static_cast<int>(needle_len / 64));
    if (std::memcmp(at + 1, needle + 1, needle_len - 1) == 0) return at;
  }
  return nullptr;
}

int find_or_match(lua_State* L, bool find) {
  std::size_t len = 0, pattern_len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const char* pattern = luaL_checklstring(L, 2, &pattern_len);
  std::size_t start = start_offset(L, len);
  Matcher m(L, limits_of(L), s, len, pattern);
  bool special = std::string_view(pattern, pattern_len).find_first_of(kSpecials) != std::string_view::npos;
  if (find && (lua_toboolean(L, 4) || !special)) {
    // A plain search uses the whole pattern, NULs included, as LuaJIT's does.
    if (const char* at = find_plain(m, s + start, len - start, pattern, pattern_len)) {
      lua_pushinteger(L, static_cast<lua_Integer>(at - s + 1));
      lua_pushinteger(L, static_cast<lua_Integer>(at - s + pattern_len));
      return 2;
    }
    lua_pushnil(L);
    return 1;
  }
  const char* p = pattern;
  bool anchored = *p == '^';
  if (anchored) ++p;
  const char* at = s + start;
  do {
    if (const char* end = m.match_at(at, p)) {
      if (!find) return m.push_captures(at, end);
      lua_pushinteger(L, static_cast<lua_Integer>(at - s + 1));
      lua_pushinteger(L, static_cast<lua_Integer>(end - s));
      return m.push_captures(nullptr, nullptr) + 2;
    }
  } while (at++ < m.subject_end() && !anchored);
  lua_pushnil(L);
  return 1;
}

int bounded_find(lua_State* L) { return find_or_match(L, true); }
int bounded_match(lua_State* L) { return find_or_match(L, false); }

// The iterator gmatch returns: upvalues (limits, subject, pattern, offset of the next search).
int gmatch_next(lua_State* L) {
  std::size_t len = 0;
  const char* s = lua_tolstring(L, lua_upvalueindex(2), &len);
  const char* p = lua_tostring(L, lua_upvalueindex(3));
  auto offset = static_cast<std::size_t>(lua_tointeger(L, lua_upvalueindex(4)));
  Matcher m(L, limits_of(L), s, len, p);
  for (const char* at = s + offset; at <= m.subject_end(); ++at) {
    if (const char* end = m.match_at(at, p)) {
      std::size_t next = static_cast<std::size_t>(end - s) + (end == at ? 1 : 0);  // an empty match moves on
      lua_pushinteger(L, static_cast<lua_Integer>(next));
      lua_replace(L, lua_upvalueindex(4));
      return m.push_captures(at, end);
    }
  }
  return 0;
}

int bounded_gmatch(lua_State* L) {
  luaL_checkstring(L, 1);
  luaL_checkstring(L, 2);
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, gmatch_next, 4);
  return 1;
}

// gsub's replacement string: %0-%9 are captures, % before anything else quotes it.
void add_replacement_text(Matcher& m, lua_State* L, luaL_Buffer* b, const char* s, const char* e) {
  std::size_t len = 0;
  const char* text = lua_tolstring(L, 3, &len);
  for (std::size_t i = 0; i < len; ++i) {
    if (text[i] != kEscape) {
      luaL_addchar(b, text[i]);
      continue;
    }
    ++i;  // a trailing '%' adds the string's terminating NUL, as LuaJIT's does
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (!is_digit(c)) {
      luaL_addchar(b, text[i]);
    } else if (c == '0') {
      luaL_addlstring(b, s, static_cast<std::size_t>(e - s));
    } else {
      m.push_capture(c - '1', s, e);
      luaL_addvalue(b);
    }
  }
}

void add_replacement(Matcher& m, lua_State* L, luaL_Buffer* b, const char* s, const char* e) {
  switch (lua_type(L, 3)) {
    case LUA_TFUNCTION: {
      lua_pushvalue(L, 3);
      int n = m.push_captures(s, e);
      lua_call(L, n, 1);
      break;
    }
    case LUA_TTABLE:
      m.push_capture(0, s, e);
      lua_gettable(L, 3);
      break;
    default:
      add_replacement_text(m, L, b, s, e);
      return;
  }
  if (!lua_toboolean(L, -1)) {  // nil or false keeps the match
    lua_pop(L, 1);
    lua_pushlstring(L, s, static_cast<std::size_t>(e - s));
  } else if (!lua_isstring(L, -1)) {
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  }
  luaL_addvalue(b);
}

int bounded_gsub(lua_State* L) {
  std::size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const char* p = luaL_checkstring(L, 2);
  int type = lua_type(L, 3);
  luaL_argcheck(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE, 3,
                "string/function/table expected");
  lua_Integer max = luaL_optinteger(L, 4, static_cast<lua_Integer>(len) + 1);
  CallLimits& limits = limits_of(L);
  // A callback (or __index) may call gsub again: each level holds a C frame.
  const void* frame = __builtin_frame_address(0);
  if (!limits.nesting.enter(frame)) {
    return luaL_error(L, "string.gsub nested too deep (over %d calls inside its callbacks, or too much C stack)",
                      CallNesting::kMaxDepth);
  }
  bool anchored = *p == '^';
  if (anchored) ++p;
  Matcher m(L, limits, s, len, p);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const char* at = s;
  lua_Integer count = 0;
  while (count < max) {
    const char* end = m.match_at(at, p);
    if (end != nullptr) {
      ++count;
      add_replacement(m, L, &b, at, end);
    }
    if (end != nullptr && end > at) {
      at = end;
    } else if (at < m.subject_end()) {
      luaL_addchar(&b, *at++);
    } else {
      break;
    }
    if (anchored) break;
  }
  luaL_addlstring(&b, at, static_cast<std::size_t>(m.subject_end() - at));
  luaL_pushresult(&b);
  lua_pushinteger(L, count);
  limits.nesting.leave(frame);
  return 2;
}

}  // namespace

void install_bounded_patterns(lua_State* L, int limits_index) {
  if (limits_index < 0) limits_index = lua_gettop(L) + 1 + limits_index;
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"find", bounded_find}, {"match", bounded_match}, {"gmatch", bounded_gmatch}, {"gsub", bounded_gsub}};
  for (const auto& [name, fn] : functions) {
    lua_pushvalue(L, limits_index);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
  }
}

}  // namespace tally
