// Addon discovery: .toc parsing, a tolerant UI XML tag scanner, and the dependency-ordered plan.
#include "runtime/addon_catalog.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <set>

namespace tally {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Deeper element nesting than any real UI file has; keeps the open-element stack small.
constexpr std::size_t kMaxXmlNesting = 1000;
// Warnings per XML file beyond which ignored elements are only counted.
constexpr std::size_t kMaxXmlWarnings = 50;
// Names echoed in messages are cut to this length, so garbage does not make huge messages.
constexpr std::size_t kMaxShownName = 64;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool has_extension(std::string_view path, std::string_view ext) {
  return path.size() > ext.size() && iequals(path.substr(path.size() - ext.size()), ext);
}

std::string shown(std::string_view name) {
  if (name.size() <= kMaxShownName) return std::string(name);
  return std::string(name.substr(0, kMaxShownName)) + "...";
}

std::string at_line(std::string_view source, std::size_t line) {
  return std::string(source) + ":" + std::to_string(line);
}

// A comma-separated toc list: items trimmed, empty ones dropped.
std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> items;
  while (true) {
    auto comma = value.find(',');
    auto item = trim(value.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) return items;
    value.remove_prefix(comma + 1);
  }
}

// Appends the items not in `seen` (lowercased names: the game matches addon names
// case-insensitively) and adds them to it.
void add_unique(std::vector<std::string>& list, std::set<std::string>& seen,
                const std::vector<std::string>& items) {
  for (const auto& item : items) {
    if (seen.insert(lowercase(item)).second) list.push_back(item);
  }
}

// `path` ('\' or '/' separated) as a lexically normal path relative to the addon folder. The
// error, prefixed by `where`, shows the path as `written` when it is empty or leads outside.
std::string addon_relative(std::string_view path, std::string_view written,
                           const std::string& where) {
  std::string s(path);
  std::replace(s.begin(), s.end(), '\\', '/');
  fs::path p(s);
  if (p.has_root_directory() || p.has_root_name()) {
    throw AddonError(where + ": path leaves the addon folder: " + shown(written));
  }
  std::string normal = p.lexically_normal().generic_string();
  if (normal.empty() || normal == "." || normal == "./") throw AddonError(where + ": empty path");
  if (normal == ".." || normal.starts_with("../")) {
    throw AddonError(where + ": path leaves the addon folder: " + shown(written));
  }
  return normal;
}

std::string too_large(std::string_view source, std::size_t limit, std::string_view kind) {
  return std::string(source) + ": larger than the " + std::to_string(limit >> 20) +
         " MiB limit for " + std::string(kind) + " files";
}

// A whole file, refused before reading when larger than `limit`.
std::string read_limited(const fs::path& path, std::size_t limit, std::string_view source,
                         std::string_view kind) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) throw AddonError(std::string(source) + ": cannot be read: " + ec.message());
  if (size > limit) throw AddonError(too_large(source, limit, kind));
  std::string text(static_cast<std::size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in) throw AddonError(std::string(source) + ": cannot be read");
  return text;
}

// ---------------------------------------------------------------------------------------------
// UI XML

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

std::string shown_char(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  auto u = static_cast<unsigned char>(c);
  return std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The code point of a numeric reference body ("#65", "#x41"), or 0 when it is not a valid one.
std::uint32_t numeric_reference(std::string_view body) {
  body.remove_prefix(1);
  int base = 10;
  if (!body.empty() && (body[0] == 'x' || body[0] == 'X')) {
    base = 16;
    body.remove_prefix(1);
  }
  if (body.empty() || body.size() > 8) return 0;
  std::uint32_t cp = 0;
  for (char c : body) {
    int digit = (c >= '0' && c <= '9')                 ? c - '0'
                : (base == 16 && c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (base == 16 && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                       : -1;
    if (digit < 0) return 0;
    cp = cp * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(digit);
  }
  bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  return (cp > 0x10FFFF || surrogate) ? 0 : cp;
}

// Text with the five XML entities and numeric references decoded; anything else that starts
// with '&' is kept as written (tolerance: the game's files are not always strict XML).
std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    auto amp = text.find('&');
    out += text.substr(0, amp);
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp);
    auto semi = text.find(';');
    auto body =
        semi == std::string_view::npos || semi > 12 ? std::string_view{} : text.substr(1, semi - 1);
    char named = body == "lt"     ? '<'
                 : body == "gt"   ? '>'
                 : body == "amp"  ? '&'
                 : body == "quot" ? '"'
                 : body == "apos" ? '\''
                                  : '\0';
    std::uint32_t cp = body.starts_with('#') ? numeric_reference(body) : 0;
    if (named != '\0') {
      out += named;
    } else if (cp != 0) {
      append_utf8(out, cp);
    } else {
      out += '&';
      text.remove_prefix(1);
      continue;
    }
    text.remove_prefix(semi + 1);
  }
  return out;
}

// A single-pass tag scanner: every step consumes input or throws, so garbage cannot loop it.
class UiXmlScanner {
 public:
  UiXmlScanner(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  UiXml run() {
    if (text_.starts_with(kBom)) pos_ = kBom.size();
    while (pos_ < text_.size()) {
      auto lt = text_.find('<', pos_);
      if (lt == std::string_view::npos) break;  // text outside tags does not matter
      advance_to(lt);
      if (at("<!--")) {
        skip_past(4, "-->", "comment");
      } else if (at("<![CDATA[")) {
        skip_past(9, "]]>", "CDATA section");
      } else if (at("<?")) {
        skip_past(2, "?>", "processing instruction");
      } else if (at("<!")) {
        skip_past(2, ">", "declaration");
      } else if (at("</")) {
        end_tag();
      } else {
        start_tag();
      }
    }
    if (!open_.empty()) {
      fail(open_.back().line, "<" + shown(open_.back().name) + "> is never closed");
    }
    if (ignored_beyond_cap_ > 0) {
      result_.warnings.push_back(std::string(source_) + ": " + std::to_string(ignored_beyond_cap_) +
                                 " more ignored elements not listed");
    }
    return std::move(result_);
  }

 private:
  struct Open {
    std::string name;
    std::size_t line;
    bool ignored;  // its content does not load (a frame, or an <Include> with children)
  };
  struct Tag {
    std::string name;
    std::optional<std::string> file;  // the only attribute that matters
    bool self_closing = false;
    std::size_t line = 0;
  };

  [[noreturn]] void fail(std::size_t line, const std::string& problem) const {
    throw AddonError(at_line(source_, line) + ": " + problem);
  }

  bool at(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

  // Moves to `to`, counting the newlines passed.
  void advance_to(std::size_t to) {
    line_ += static_cast<std::size_t>(std::count(text_.begin() + pos_, text_.begin() + to, '\n'));
    pos_ = to;
  }

  // Skips a construct opened by `open_len` chars at pos_ and closed by `close`.
  void skip_past(std::size_t open_len, std::string_view close, std::string_view what) {
    auto end = text_.find(close, pos_ + open_len);
    if (end == std::string_view::npos) fail(line_, "unterminated " + std::string(what));
    advance_to(end + close.size());
  }

  void skip_space() {
    std::size_t p = pos_;
    while (p < text_.size() && is_space(text_[p])) ++p;
    advance_to(p);
  }

  std::string read_name() {
    std::size_t p = pos_;
    if (p < text_.size() && is_name_start(text_[p])) {
      while (p < text_.size() && is_name_char(text_[p])) ++p;
    }
    std::string name(text_.substr(pos_, p - pos_));
    pos_ = p;  // names hold no newlines
    return name;
  }

  Tag read_tag() {
    Tag tag;
    tag.line = line_;
    ++pos_;  // '<'
    tag.name = read_name();
    if (tag.name.empty()) fail(line_, "expected an element name after '<'");
    const std::string in_tag = " in <" + shown(tag.name) + "> tag";
    while (true) {
      skip_space();
      if (pos_ >= text_.size()) fail(tag.line, "unterminated <" + shown(tag.name) + "> tag");
      if (at("/>")) {
        pos_ += 2;
        tag.self_closing = true;
        return tag;
      }
      if (at(">")) {
        ++pos_;
        return tag;
      }
      std::string attr = read_name();
      if (attr.empty()) fail(line_, "unexpected '" + shown_char(text_[pos_]) + "'" + in_tag);
      const std::string attr_where = "attribute '" + shown(attr) + "'" + in_tag;
      skip_space();
      if (!at("=")) fail(line_, attr_where + " has no value");
      ++pos_;
      skip_space();
      if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
        fail(line_, attr_where + " needs a quoted value");
      }
      auto close = text_.find(text_[pos_], pos_ + 1);
      if (close == std::string_view::npos) fail(line_, "unterminated value of " + attr_where);
      auto value = text_.substr(pos_ + 1, close - pos_ - 1);
      advance_to(close + 1);
      if (attr == "file") {
        if (tag.file) fail(tag.line, "duplicate " + attr_where);
        tag.file = decode_entities(value);
      }
    }
  }

  // The text of a <Script> up to its </Script>: entities decoded, CDATA kept raw, comments
  // dropped but their newlines kept (so Lua line numbers map back to XML lines). A '<' that
  // starts none of these is kept: inline Lua is full of comparisons.
  std::string script_body(std::size_t open_line) {
    std::string code;
    while (true) {
      auto lt = text_.find('<', pos_);
      if (lt == std::string_view::npos) fail(open_line, "<Script> is never closed");
      code += decode_entities(text_.substr(pos_, lt - pos_));
      advance_to(lt);
      if (at("</Script") && pos_ + 8 < text_.size() &&
          (text_[pos_ + 8] == '>' || is_space(text_[pos_ + 8]))) {
        pos_ += 8;
        skip_space();
        if (!at(">")) fail(line_, "malformed </Script> tag");
        ++pos_;
        return code;
      }
      if (at("<![CDATA[")) {
        auto end = text_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) fail(line_, "unterminated CDATA section");
        code += text_.substr(pos_ + 9, end - pos_ - 9);
        advance_to(end + 3);
      } else if (at("<!--")) {
        auto before = line_;
        skip_past(4, "-->", "comment");
        code.append(line_ - before, '\n');
      } else {
        code += '<';
        ++pos_;
      }
    }
  }

  // The file attribute of a loading tag, trimmed.
  std::string file_of(const Tag& tag) const {
    if (!tag.file) fail(tag.line, "<" + tag.name + "> has no file attribute");
    auto file = trim(*tag.file);
    if (file.empty()) fail(tag.line, "<" + tag.name + "> has an empty file attribute");
    return std::string(file);
  }

  void open(std::string name, std::size_t line, bool ignored) {
    if (open_.size() >= kMaxXmlNesting) {
      fail(line, "elements nested deeper than " + std::to_string(kMaxXmlNesting));
    }
    open_.push_back({std::move(name), line, ignored});
    if (ignored) ++ignored_depth_;
  }

  void start_tag() {
    Tag tag = read_tag();
    // Only Script and Include directly under <Ui> (or at the top) load; frames and all inside
    // them are skipped, though still scanned for well-formedness.
    bool loading = ignored_depth_ == 0;
    if (tag.name == "Script") {
      if (loading && tag.file) {
        result_.items.push_back({UiXmlItem::ScriptFile, file_of(tag), tag.line});
      }
      if (tag.self_closing) return;
      auto code_line = line_;
      auto code = script_body(tag.line);
      if (loading && !tag.file && !trim(code).empty()) {
        result_.items.push_back({UiXmlItem::InlineScript, std::move(code), code_line});
      }
    } else if (tag.name == "Include") {
      if (loading) result_.items.push_back({UiXmlItem::Include, file_of(tag), tag.line});
      if (!tag.self_closing) open(std::move(tag.name), tag.line, true);
    } else if (tag.name == "Ui") {
      if (!tag.self_closing) open(std::move(tag.name), tag.line, false);
    } else {
      if (loading) warn_ignored(tag);
      if (!tag.self_closing) open(std::move(tag.name), tag.line, true);
    }
  }

  void warn_ignored(const Tag& tag) {
    if (result_.warnings.size() >= kMaxXmlWarnings) {
      ++ignored_beyond_cap_;
      return;
    }
    result_.warnings.push_back(std::string(source_) + ": ignored <" + shown(tag.name) +
                               "> at line " + std::to_string(tag.line) +
                               ": UI XML frames are not supported");
  }

  void end_tag() {
    auto line = line_;
    pos_ += 2;  // "</"
    std::string name = read_name();
    if (name.empty()) fail(line, "expected an element name after '</'");
    skip_space();
    if (!at(">")) fail(line, "malformed </" + shown(name) + "> tag");
    ++pos_;
    if (open_.empty()) fail(line, "</" + shown(name) + "> closes nothing");
    const Open& top = open_.back();
    if (top.name != name) {
      fail(line, "</" + shown(name) + "> does not close <" + shown(top.name) + "> from line " +
                     std::to_string(top.line));
    }
    if (top.ignored) --ignored_depth_;
    open_.pop_back();
  }

  std::string_view text_;
  std::string_view source_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::vector<Open> open_;
  std::size_t ignored_depth_ = 0;  // open elements whose content does not load
  std::size_t ignored_beyond_cap_ = 0;
  UiXml result_;
};

// ---------------------------------------------------------------------------------------------
// One addon's load steps

std::string chunk_name(const std::string& addon, const std::string& relative) {
  std::string name = "@Interface\\AddOns\\" + addon + "\\" + relative;
  std::replace(name.begin(), name.end(), '/', '\\');
  return name;
}

// Expands an addon's toc into load steps; throws AddonError naming the file and line at fault.
class StepBuilder {
 public:
  explicit StepBuilder(AddonInfo& info) : info_(info) {}

  void add_toc_files() {
    const std::string toc_name = info_.name + ".toc";
    for (const auto& file : info_.toc.files) {
      auto where = at_line(toc_name, file.line);
      if (has_extension(file.path, ".xml")) {
        add_xml(file.path, where);
      } else {
        add_lua(file.path, where);
      }
    }
  }

 private:
  bool exists(const std::string& relative) const {
    std::error_code ec;
    return fs::is_regular_file(info_.dir / relative, ec);
  }

  // Paths are checked lexically first (addon_relative); a symbolic link inside the folder can
  // still lead out of it, so the file's canonical path must be inside the folder's (which may
  // itself be a link, as a developer's checkout often is).
  void check_inside(const std::string& relative, const std::string& where) const {
    std::error_code ec;
    fs::path folder = fs::canonical(info_.dir, ec);
    fs::path file = ec ? fs::path() : fs::canonical(info_.dir / relative, ec);
    if (ec) throw AddonError(where + ": cannot resolve " + shown(relative) + ": " + ec.message());
    std::string inside = file.lexically_relative(folder).generic_string();
    if (inside.empty() || inside == ".." || inside.starts_with("../")) {
      throw AddonError(where + ": path leaves the addon folder through a symbolic link: " + shown(relative));
    }
  }

  void add_lua(const std::string& relative, const std::string& where) {
    if (!exists(relative)) throw AddonError(where + ": file not found: " + relative);
    check_inside(relative, where);
    info_.steps.push_back(
        {LoadStep::LuaFile, info_.dir / relative, {}, chunk_name(info_.name, relative)});
  }

  void add_xml(const std::string& relative, const std::string& where) {
    auto cycle_start = std::find(chain_.begin(), chain_.end(), relative);
    if (cycle_start != chain_.end()) {
      std::string cycle;
      for (auto it = cycle_start; it != chain_.end(); ++it) cycle += *it + " -> ";
      throw AddonError(where + ": include cycle: " + cycle + relative);
    }
    if (chain_.size() > kMaxIncludeDepth) {
      throw AddonError(where + ": includes nested deeper than " + std::to_string(kMaxIncludeDepth) +
                       " levels");
    }
    if (!exists(relative)) throw AddonError(where + ": file not found: " + relative);
    check_inside(relative, where);

    // Parsed once; a repeated include costs its size again against the per-addon budget.
    auto parsed = parsed_.find(relative);
    if (parsed == parsed_.end()) {
      auto text = read_limited(info_.dir / relative, kMaxXmlBytes, relative, ".xml");
      auto xml = parse_ui_xml(text, relative);
      info_.warnings.insert(info_.warnings.end(), xml.warnings.begin(), xml.warnings.end());
      parsed = parsed_.emplace(relative, std::make_pair(std::move(xml), text.size())).first;
    }
    xml_bytes_ += parsed->second.second;
    if (xml_bytes_ > kMaxXmlBytesPerAddon) {
      throw AddonError("more than " + std::to_string(kMaxXmlBytesPerAddon >> 20) +
                       " MiB of XML to load, counting repeated includes");
    }

    auto slash = relative.rfind('/');
    std::string base = slash == std::string::npos ? "" : relative.substr(0, slash + 1);
    chain_.push_back(relative);
    for (const auto& item : parsed->second.first.items) {
      auto item_where = at_line(relative, item.line);
      switch (item.kind) {
        case UiXmlItem::ScriptFile: {
          auto target = resolve(base, item.text, item_where);
          if (!has_extension(target, ".lua")) {
            throw AddonError(item_where +
                             ": <Script> file is not a .lua file: " + shown(item.text));
          }
          add_lua(target, item_where);
          break;
        }
        case UiXmlItem::Include: {
          auto target = resolve(base, item.text, item_where);
          if (!has_extension(target, ".xml")) {
            throw AddonError(item_where +
                             ": <Include> file is not an .xml file: " + shown(item.text));
          }
          add_xml(target, item_where);
          break;
        }
        case UiXmlItem::InlineScript:
          info_.steps.push_back(
              {LoadStep::InlineScript, info_.dir / relative, item.text,
               chunk_name(info_.name, relative) + ":" + std::to_string(item.line)});
          break;
      }
    }
    chain_.pop_back();
  }

  // A path written in an XML file, relative to that file's folder.
  static std::string resolve(const std::string& base, const std::string& written,
                             const std::string& where) {
    if (written.starts_with('/') || written.starts_with('\\')) {
      throw AddonError(where + ": path leaves the addon folder: " + shown(written));
    }
    return addon_relative(base + written, written, where);
  }

  AddonInfo& info_;
  std::vector<std::string> chain_;  // the XML files being expanded, outermost first
  std::map<std::string, std::pair<UiXml, std::size_t>> parsed_;  // by relative path, with size
  std::size_t xml_bytes_ = 0;
};

AddonInfo load_addon(const fs::path& root, const std::string& name) {
  AddonInfo info;
  info.name = name;
  info.dir = root / name;
  try {
    const std::string toc_name = name + ".toc";
    info.toc =
        parse_toc(read_limited(info.dir / toc_name, kMaxTocBytes, toc_name, ".toc"), toc_name);
    StepBuilder(info).add_toc_files();
    info.loadable = true;
  } catch (const AddonError& e) {
    info.reason = name + ": " + e.what();
    info.steps.clear();
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// The load plan

class Planner {
 public:
  explicit Planner(std::vector<AddonInfo>& addons)
      : addons_(addons), state_(addons.size()), placing_(addons.size()), reach_(addons.size()) {
    for (std::size_t i = 0; i < addons.size(); ++i) {
      exact_.emplace(addons[i].name, i);
      folded_.emplace(lowercase(addons[i].name), i);  // addons are sorted: the first one wins
    }
  }

  // Loadable addons in load order, then the others alphabetically.
  std::vector<AddonInfo> plan() {
    for (std::size_t i = 0; i < addons_.size(); ++i) check(i);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < addons_.size(); ++i) {
      if (addons_[i].loadable) place(i, order);
    }
    for (std::size_t i = 0; i < addons_.size(); ++i) {
      if (!addons_[i].loadable) order.push_back(i);
    }
    std::vector<AddonInfo> out;
    out.reserve(order.size());
    for (auto i : order) out.push_back(std::move(addons_[i]));
    return out;
  }

 private:
  enum class State : std::uint8_t { New, Active, Done };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // Exact folder name first, else case-insensitively, as the game matches dependency names.
  std::size_t find(const std::string& name) const {
    if (auto it = exact_.find(name); it != exact_.end()) return it->second;
    if (auto it = folded_.find(lowercase(name)); it != folded_.end()) return it->second;
    return npos;
  }

  void fail(std::size_t i, std::string reason) {
    if (!addons_[i].loadable) return;  // the first reason stays
    addons_[i].loadable = false;
    addons_[i].reason = std::move(reason);
    addons_[i].steps.clear();
  }

  // Marks addons whose required dependencies are missing, not loadable or cyclic.
  void check(std::size_t i) {
    if (state_[i] == State::Done) return;
    if (state_[i] == State::Active) {
      auto start = std::find(stack_.begin(), stack_.end(), i) - stack_.begin();
      std::vector<std::size_t> cycle(stack_.begin() + start, stack_.end());
      for (std::size_t k = 0; k < cycle.size(); ++k) {
        std::string names;
        for (std::size_t n = 0; n <= cycle.size(); ++n) {
          names += (n ? " -> " : "") + addons_[cycle[(k + n) % cycle.size()]].name;
        }
        fail(cycle[k], addons_[cycle[k]].name + ": dependency cycle " + names);
      }
      return;
    }
    state_[i] = State::Active;
    stack_.push_back(i);
    for (const auto& dep : addons_[i].toc.required_deps) {
      auto j = find(dep);
      if (j == npos) {
        fail(i, addons_[i].name + ": missing required dependency " + dep);
        continue;
      }
      check(j);
      if (!addons_[j].loadable) {
        fail(i, addons_[i].name + ": required dependency " + addons_[j].name + " is not loadable");
      }
    }
    stack_.pop_back();
    state_[i] = State::Done;
  }

  // Which addons `i` requires, directly or not, as a bitset (loadable ones only: they form no
  // cycle). Words, not vector<bool>: dense dependency graphs OR many of them.
  const std::vector<std::uint64_t>& requires_of(std::size_t i) {
    if (!reach_[i].empty()) return reach_[i];
    std::vector<std::uint64_t> result((addons_.size() + 63) / 64);
    for (const auto& dep : addons_[i].toc.required_deps) {
      auto j = find(dep);
      result[j / 64] |= std::uint64_t{1} << (j % 64);
      const auto& sub = requires_of(j);
      for (std::size_t w = 0; w < sub.size(); ++w) result[w] |= sub[w];
    }
    reach_[i] = std::move(result);
    return reach_[i];
  }

  // Appends `i` after its required and (present, loadable) optional dependencies. An optional
  // dependency that requires an addon being placed is skipped: it would close a cycle, and
  // only required dependencies must hold.
  void place(std::size_t i, std::vector<std::size_t>& order) {
    if (placing_[i] != State::New) return;
    placing_[i] = State::Active;
    stack_.push_back(i);
    for (const auto& dep : addons_[i].toc.required_deps) place(find(dep), order);
    for (const auto& dep : addons_[i].toc.optional_deps) {
      auto j = find(dep);
      if (j == npos || !addons_[j].loadable) continue;
      const auto& reach = requires_of(j);
      bool closes_cycle = std::any_of(stack_.begin(), stack_.end(), [&](std::size_t p) {
        return p == j || (reach[p / 64] >> (p % 64) & 1);
      });
      if (!closes_cycle) place(j, order);
    }
    stack_.pop_back();
    placing_[i] = State::Done;
    order.push_back(i);
  }

  std::vector<AddonInfo>& addons_;
  std::map<std::string, std::size_t> exact_;
  std::map<std::string, std::size_t> folded_;
  std::vector<State> state_;                       // of check()
  std::vector<State> placing_;                     // of place()
  std::vector<std::size_t> stack_;                 // addons being checked, or being placed
  std::vector<std::vector<std::uint64_t>> reach_;  // requires_of, memoized
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

bool addon_name_less(std::string_view a, std::string_view b) {
  auto la = lowercase(a);
  auto lb = lowercase(b);
  return la != lb ? la < lb : a < b;
}

TocFile parse_toc(std::string_view text, std::string_view source_name) {
  if (text.size() > kMaxTocBytes) throw AddonError(too_large(source_name, kMaxTocBytes, ".toc"));
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  TocFile toc;
  std::vector<std::string> optional;
  std::set<std::string> seen_required;
  std::set<std::string> seen_optional;
  std::size_t line_number = 0;
  while (!text.empty()) {
    auto newline = text.find('\n');
    auto line = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (line.empty()) continue;
    if (line.starts_with("##")) {
      auto body = line.substr(2);
      auto colon = body.find(':');
      auto key = lowercase(trim(body.substr(0, colon)));
      if (colon == std::string_view::npos || key.empty()) continue;  // a comment after all
      auto value = trim(body.substr(colon + 1));
      if (!toc.metadata.emplace(key, value).second) continue;
      if (key == "savedvariables") {
        toc.saved_variables = split_list(value);
      } else if (key == "savedvariablespercharacter") {
        toc.saved_variables_per_character = split_list(value);
      } else if (key == "requireddeps" || key.starts_with("dep")) {  // Dependencies, Dep1, ...
        add_unique(toc.required_deps, seen_required, split_list(value));
      } else if (key == "optionaldeps") {
        add_unique(optional, seen_optional, split_list(value));
      }
      continue;
    }
    if (line.starts_with('#')) continue;
    auto where = at_line(source_name, line_number);
    auto path = addon_relative(line, line, where);
    if (!has_extension(path, ".lua") && !has_extension(path, ".xml")) {
      throw AddonError(where + ": unsupported file type: " + shown(line) +
                       " (only .lua and .xml load)");
    }
    toc.files.push_back({std::move(path), line_number});
  }
  // A dependency listed as both is required.
  for (const auto& dep : optional) {
    if (!seen_required.contains(lowercase(dep))) toc.optional_deps.push_back(dep);
  }
  auto meta = [&](const char* key) {
    auto it = toc.metadata.find(key);
    return it == toc.metadata.end() ? std::string() : it->second;
  };
  toc.interface = meta("interface");
  toc.title = meta("title");
  toc.version = meta("version");
  toc.load_on_demand = meta("loadondemand") == "1";
  return toc;
}

UiXml parse_ui_xml(std::string_view text, std::string_view source_name) {
  if (text.size() > kMaxXmlBytes) throw AddonError(too_large(source_name, kMaxXmlBytes, ".xml"));
  return UiXmlScanner(text, source_name).run();
}

AddonCatalog scan_addons(const fs::path& addons_dir) {
  std::error_code ec;
  auto status = fs::status(addons_dir, ec);
  if (!fs::exists(status)) throw AddonError(addons_dir.string() + ": no such directory");
  if (!fs::is_directory(status)) throw AddonError(addons_dir.string() + ": not a directory");
  fs::path root = fs::absolute(addons_dir, ec).lexically_normal();
  if (ec) throw AddonError(addons_dir.string() + ": " + ec.message());

  std::vector<std::string> names;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    if (names.size() == kMaxAddons) {
      throw AddonError(addons_dir.string() + ": more than " + std::to_string(kMaxAddons) +
                       " addon folders");
    }
    names.push_back(it->path().filename().string());
  }
  if (ec) throw AddonError(addons_dir.string() + ": cannot be read: " + ec.message());
  std::sort(names.begin(), names.end(), addon_name_less);

  AddonCatalog catalog;
  std::vector<AddonInfo> addons;
  for (const auto& name : names) {
    std::error_code toc_ec;
    if (!fs::is_regular_file(root / name / (name + ".toc"), toc_ec)) {
      catalog.warnings.push_back(name + ": no " + name + ".toc in the folder; skipped");
      continue;
    }
    addons.push_back(load_addon(root, name));
  }
  catalog.addons = Planner(addons).plan();
  return catalog;
}

}  // namespace tally
