// SavedVariables files (top-level `Name = value` Lua assignments), read and written without Lua.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tally::savedvars {

class Value;

// Integral types but bool, which stays a boolean: integers become numbers (doubles), as in Lua.
template <class I>
concept Integer = std::integral<I> && !std::same_as<I, bool>;

// Limits that keep hostile input from exhausting the stack or memory; the writer enforces them
// too, so everything it writes can be read back.
inline constexpr int kMaxDepth = 200;                      // nested tables, outermost is 1
inline constexpr std::size_t kMaxStringBytes = 16u << 20;  // one string, after unescaping

// A Lua table: (key, value) pairs in the order keys were first assigned. Keys are unique
// booleans, numbers (never NaN; -0 and 0 are one key, as in Lua) or strings; values are never nil.
class Table {
 public:
  using Entry = std::pair<Value, Value>;

  Table() noexcept;
  // Pairs assigned in order, as set() does: `Table{{"a", 1}, {1, "x"}}`.
  Table(std::initializer_list<Entry> entries);
  Table(const Table& other);
  Table(Table&& other) noexcept;
  Table& operator=(const Table& other);
  Table& operator=(Table&& other) noexcept;
  ~Table();

  // t[key] = value: replaces an existing key's value in place; a nil value removes the key
  // (linear in the table's size). Throws std::invalid_argument for a nil, NaN or table key.
  void set(Value key, Value value);

  // The value stored under key, or nullptr.
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  const Value* find(const char* key) const { return find(std::string_view(key)); }
  const Value* find(const std::string& key) const { return find(std::string_view(key)); }
  template <Integer I>
  const Value* find(I key) const {
    return find_number(static_cast<double>(key));
  }

  std::size_t size() const noexcept;
  bool empty() const noexcept;
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  std::vector<Entry>::const_iterator begin() const noexcept;
  std::vector<Entry>::const_iterator end() const noexcept;

  // Same keys with equal values, in any order.
  friend bool operator==(const Table& a, const Table& b);

 private:
  friend class Parser;
  struct Index;  // key -> position, built once a table outgrows a linear scan

  const Value* find_number(double key) const;
  std::size_t locate(const Value& key) const;
  std::size_t locate_string(std::string_view key) const;
  std::size_t locate_number(double key) const;
  std::size_t locate_boolean(bool key) const;
  void index_entry(std::size_t position);
  void rebuild_index();
  // The parser's assignment: keeps nil values (so a later nil overrides an earlier value in
  // one pass) until drop_nils() removes them all at the end of the constructor.
  void assign(Value key, Value value);
  void drop_nils();

  std::vector<Entry> entries_;
  std::unique_ptr<Index> index_;
};

class Value {
 public:
  enum class Type { Nil, Boolean, Number, String, Table };

  Value() noexcept = default;  // nil
  Value(bool b) noexcept : data_(b) {}
  Value(double n) noexcept : data_(n) {}
  template <Integer I>
  Value(I n) noexcept : data_(static_cast<double>(n)) {}
  Value(std::string s) noexcept : data_(std::move(s)) {}
  Value(std::string_view s) : data_(std::string(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(Table t) noexcept : data_(std::move(t)) {}

  Type type() const noexcept { return static_cast<Type>(data_.index()); }
  bool is_nil() const noexcept { return type() == Type::Nil; }
  bool is_boolean() const noexcept { return type() == Type::Boolean; }
  bool is_number() const noexcept { return type() == Type::Number; }
  bool is_string() const noexcept { return type() == Type::String; }
  bool is_table() const noexcept { return type() == Type::Table; }

  // Throw std::invalid_argument naming both types when the value is of another type.
  bool as_boolean() const;
  double as_number() const;
  const std::string& as_string() const;
  const Table& as_table() const;
  Table& as_table();

  // The field of a table value, or nullptr (also when this is not a table).
  template <class Key>
  const Value* find(const Key& key) const {
    return is_table() ? std::get<Table>(data_).find(key) : nullptr;
  }

  // Deep equality; numbers compare as doubles (0 == -0, NaN != NaN).
  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<std::monostate, bool, double, std::string, Table> data_;
};

// Defined here because they need Value complete.
inline std::size_t Table::size() const noexcept {
  return entries_.size();
}
inline bool Table::empty() const noexcept {
  return entries_.empty();
}
inline std::vector<Table::Entry>::const_iterator Table::begin() const noexcept {
  return entries_.begin();
}
inline std::vector<Table::Entry>::const_iterator Table::end() const noexcept {
  return entries_.end();
}

// "nil", "boolean", "number", "string", "table".
std::string_view type_name(Value::Type type);

// Top-level variables in the order they were first assigned; a variable assigned twice takes
// the later value, and one whose final value is nil is left out.
using Variables = std::vector<std::pair<std::string, Value>>;

// Malformed input. what() is "<source>:<line>:<column>: <problem>" (1-based, columns in bytes).
class ParseError : public std::runtime_error {
 public:
  ParseError(const std::string& message, std::size_t line, std::size_t column)
      : std::runtime_error(message), line_(line), column_(column) {}
  std::size_t line() const noexcept { return line_; }
  std::size_t column() const noexcept { return column_; }

 private:
  std::size_t line_;
  std::size_t column_;
};

// A value the file format cannot hold. what() is "<variable.key.path>: <problem>".
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a SavedVariables file: `Name = value` statements, optionally separated by `;`, where a
// value is nil, true, false, a number, a string or a table constructor (Lua 5.1 syntax, no
// expressions beyond a unary minus on a number). source_name prefixes error messages.
// Throws ParseError and nothing else (short of the system running out of memory).
Variables parse(std::string_view text, std::string_view source_name);

// `name = value` and a newline, in the game's style: tab indentation, `["key"] = ` keys, the
// array part 1..n positionally with `-- [i]` comments, trailing commas, other keys sorted
// (numbers, then strings by bytes, then false, true). Integral numbers below 2^53 in magnitude
// are written as integers (-0 as 0), others in the shortest of %.15g/%.16g/%.17g that reads
// back exactly. Throws WriteError for NaN, infinities, a name that is not a Lua identifier, and
// anything parse() would refuse (nesting deeper than kMaxDepth, strings over kMaxStringBytes).
std::string write(std::string_view name, const Value& value);

// Every non-nil variable written as by write(), one after the other, in the given order.
std::string write_file_contents(const Variables& variables);

}  // namespace tally::savedvars
