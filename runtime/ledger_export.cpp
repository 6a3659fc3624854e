// Ledger export and import: one document model, validated field by field with named places.
#include "runtime/ledger_export.hpp"

#include "runtime/saved_variables.hpp"

#include <algorithm>
#include <cmath>

namespace tally {

namespace {

using nlohmann::json;

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

std::string to_hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

json value_to_json(const Value& v, bool hex_for_binary) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return *d;
  const auto& s = std::get<std::string>(v);
  if (hex_for_binary && !valid_utf8(s)) return json{{"hex", to_hex(s)}};
  return s;
}

// The document as a json value; strings may hold any bytes until dumped.
json ledger_document(const Ledger& ledger, bool hex_for_binary) {
  json entries = json::array();
  ledger.for_each(0, ledger.size(), [&](std::size_t, const EntryView& e) {
    EntryKey k = e.key();
    json data = json::object();
    Payload payload = e.payload();
    for (const auto& [name, value] : payload.fields()) data[name] = value_to_json(value, hex_for_binary);
    entries.push_back({{"ts", k.timestamp}, {"counter", k.counter}, {"realm", k.realm},
                       {"creator", k.creator}, {"type", e.type()}, {"rev", e.revision()},
                       {"data", std::move(data)}});
  });
  return {{"format", "tally-ledger"}, {"version", kExportVersion}, {"ledger", ledger.id()},
          {"entries", std::move(entries)}};
}

// Reads the document back, naming the place of the first problem.
class DocumentReader {
 public:
  explicit DocumentReader(std::string_view source) : source_(source) {}

  LedgerDocument read(const json& doc) {
    if (!doc.is_object()) fail("", "expected a table/object at the top level, got " + kind(doc));
    const json& format = member(doc, "format", "");
    if (!format.is_string() || format.get<std::string>() != "tally-ledger") {
      fail("format", "expected \"tally-ledger\", got " + shown(format));
    }
    auto version = integer(member(doc, "version", ""), "version", 1, 1000000);
    if (version > kExportVersion) {
      fail("version", "document version " + std::to_string(version) +
                          " is newer than this build reads (" + std::to_string(kExportVersion) + ")");
    }
    LedgerDocument out;
    const json& id = member(doc, "ledger", "");
    if (!id.is_string()) fail("ledger", "expected a string, got " + kind(id));
    out.ledger_id = id.get<std::string>();
    // Ledger ids name journals and travel in JSON: UTF-8 text of bounded length.
    if (!valid_utf8(out.ledger_id) || out.ledger_id.size() > 200) {
      fail("ledger", "the ledger id must be UTF-8 text of at most 200 bytes");
    }
    const json& entries = member(doc, "entries", "");
    if (!entries.is_array()) fail("entries", "expected a list, got " + kind(entries));
    out.entries.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      out.entries.push_back(entry(entries[i], "entries[" + std::to_string(i + 1) + "]"));
    }
    return out;
  }

 private:
  Entry entry(const json& e, const std::string& at) {
    if (!e.is_object()) fail(at, "expected a table/object, got " + kind(e));
    for (const auto& [name, value] : e.items()) {
      static const char* known[] = {"ts", "counter", "realm", "creator", "type", "rev", "data"};
      if (std::find(std::begin(known), std::end(known), name) == std::end(known)) {
        fail(at + "." + name, "unknown field");
      }
    }
    Entry out;
    out.key.timestamp = static_cast<std::uint32_t>(integer(member(e, "ts", at), at + ".ts", 0, 0xffffffffLL));
    out.key.counter = static_cast<std::uint8_t>(integer(member(e, "counter", at), at + ".counter", 0, 255));
    out.key.realm = e.contains("realm")
                        ? static_cast<std::uint16_t>(integer(e["realm"], at + ".realm", 0, 65535))
                        : 0;
    out.key.creator = static_cast<std::uint32_t>(integer(member(e, "creator", at), at + ".creator", 0, 0xffffffffLL));
    const json& type = member(e, "type", at);
    if (!type.is_string()) fail(at + ".type", "expected a string, got " + kind(type));
    out.type = type.get<std::string>();
    out.revision = e.contains("rev") ? static_cast<std::uint8_t>(integer(e["rev"], at + ".rev", 0, 255)) : 1;
    try {
      validate_type_name(out.type);
      if (e.contains("data")) {
        const json& data = e["data"];
        bool empty_lua_table = data.is_array() && data.empty();  // Lua cannot tell {} kinds apart
        if (!data.is_object() && !empty_lua_table) fail(at + ".data", "expected a table/object, got " + kind(data));
        for (const auto& [name, value] : data.items()) out.payload.set(name, field(value, at + ".data." + name));
      }
      encode_payload(out.payload);  // checks the encoded size limit
    } catch (const InvalidEntry& err) {
      fail(at, err.what());
    }
    return out;
  }

  Value field(const json& v, const std::string& at) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_integer() || v.is_number_unsigned()) {
      if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxSafeInteger)) {
        fail(at, "integer " + shown(v) + " is outside the safe range +-2^53");
      }
      return v.get<std::int64_t>();
    }
    if (v.is_number_float()) return v.get<double>();
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.size() == 1 && v.contains("hex") && v["hex"].is_string()) return from_hex(v["hex"], at);
    fail(at, "expected a boolean, number or string, got " + kind(v));
  }

  std::string from_hex(const json& hex, const std::string& at) {
    const auto& s = hex.get_ref<const std::string&>();
    if (s.size() % 2 != 0) fail(at, "hex string has an odd length");
    std::string out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
      auto nibble = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        fail(at, "bad hex digit '" + std::string(1, c) + "'");
      };
      out += static_cast<char>(nibble(s[i]) * 16 + nibble(s[i + 1]));
    }
    return out;
  }

  // Integers may arrive as JSON integers or as integral Lua numbers (doubles).
  long long integer(const json& v, const std::string& at, long long min, long long max) {
    long long n = 0;
    if (v.is_number_integer() || v.is_number_unsigned()) {
      if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
        fail(at, "expected an integer in " + std::to_string(min) + ".." + std::to_string(max) + ", got " + shown(v));
      }
      n = v.get<long long>();
    } else if (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) < 9e18) {
      n = static_cast<long long>(v.get<double>());
    } else {
      fail(at, "expected an integer, got " + (v.is_null() ? std::string("nothing") : shown(v)));
    }
    if (n < min || n > max) {
      fail(at, "expected an integer in " + std::to_string(min) + ".." + std::to_string(max) + ", got " + std::to_string(n));
    }
    return n;
  }

  const json& member(const json& obj, const char* name, const std::string& at) {
    auto it = obj.find(name);
    if (it == obj.end()) fail(at.empty() ? name : at + "." + name, "missing");
    return *it;
  }

  static std::string kind(const json& v) { return v.type_name(); }

  // A value quoted in an error message; bytes that are not UTF-8 (from a Lua file) are replaced
  // rather than making the message itself fail.
  static std::string shown(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

  [[noreturn]] void fail(const std::string& at, const std::string& what) const {
    throw ImportError(std::string(source_) + ": " + (at.empty() ? "" : at + ": ") + what);
  }

  std::string_view source_;
};

}  // namespace

nlohmann::json ledger_to_json(const Ledger& ledger) { return ledger_document(ledger, true); }

std::string ledger_to_json_text(const Ledger& ledger) { return ledger_to_json(ledger).dump(1, '\t') + "\n"; }

LedgerDocument ledger_from_json(const nlohmann::json& document, std::string_view source_name) {
  return DocumentReader(source_name).read(document);
}

LedgerDocument ledger_from_json_text(std::string_view text, std::string_view source_name) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ImportError(std::string(source_name) + ": not valid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {
    // e.g. a number too large for a double
    throw ImportError(std::string(source_name) + ": not valid JSON: " + e.what());
  }
  return ledger_from_json(doc, source_name);
}

// ---------------------------------------------------------------------------------------------
// SavedVariables: the same document, carried as a Lua table.

namespace {

savedvars::Value to_lua(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer: return v.get<std::int64_t>();
    case json::value_t::number_unsigned: return v.get<std::uint64_t>();
    case json::value_t::number_float: return v.get<double>();
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::array: {
      savedvars::Table t;
      for (std::size_t i = 0; i < v.size(); ++i) t.set(i + 1, to_lua(v[i]));
      return t;
    }
    case json::value_t::object: {
      savedvars::Table t;
      for (const auto& [key, value] : v.items()) t.set(key, to_lua(value));
      return t;
    }
    default: return {};
  }
}

// Lua numbers are doubles: integral ones within the safe range come back as integers.
json from_lua(const savedvars::Value& v, std::string_view source, const std::string& at) {
  switch (v.type()) {
    case savedvars::Value::Type::Boolean: return v.as_boolean();
    case savedvars::Value::Type::Number: {
      double d = v.as_number();
      if (std::trunc(d) == d && std::fabs(d) <= static_cast<double>(kMaxSafeInteger)) {
        return static_cast<std::int64_t>(d);
      }
      return d;
    }
    case savedvars::Value::Type::String: return v.as_string();
    case savedvars::Value::Type::Table: break;
    case savedvars::Value::Type::Nil: return nullptr;
  }
  const savedvars::Table& t = v.as_table();
  bool is_list = true;
  for (std::size_t i = 1; i <= t.size() && is_list; ++i) is_list = t.find(i) != nullptr;
  if (is_list) {
    json list = json::array();
    for (std::size_t i = 1; i <= t.size(); ++i) list.push_back(from_lua(*t.find(i), source, at + "[" + std::to_string(i) + "]"));
    return list;
  }
  json object = json::object();
  for (const auto& [key, value] : t) {
    if (!key.is_string()) {
      throw ImportError(std::string(source) + ": " + at + ": only string keys and lists belong in a ledger document");
    }
    object[key.as_string()] = from_lua(value, source, at + "." + key.as_string());
  }
  return object;
}

}  // namespace

std::string ledger_to_saved_variables(const Ledger& ledger, std::string_view variable) {
  return savedvars::write(variable, to_lua(ledger_document(ledger, false)));
}

LedgerDocument ledger_from_saved_variables(std::string_view text, std::string_view source_name,
                                           std::string_view variable) {
  savedvars::Variables vars;
  try {
    vars = savedvars::parse(text, source_name);
  } catch (const savedvars::ParseError& e) {
    throw ImportError(e.what());
  }
  for (const auto& [name, value] : vars) {
    if (name == variable) return ledger_from_json(from_lua(value, source_name, name), source_name);
  }
  throw ImportError(std::string(source_name) + ": no variable named " + std::string(variable));
}

}  // namespace tally
