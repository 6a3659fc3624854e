// SavedVariables: every literal, the game's exact style, round trips, refusals, atomic writes.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "runtime/atomic_file.hpp"
#include "runtime/saved_variables.hpp"
#include "temp_dir.hpp"

using namespace tally::savedvars;

namespace {

// The value of X in "X = <text>".
Value parse_one(std::string_view text) {
  Variables vars = parse("X = " + std::string(text), "t.lua");
  REQUIRE(vars.size() == 1);
  CHECK(vars[0].first == "X");
  return vars[0].second;
}

// The message of the ParseError the text raises; other exception types fail the test.
std::string parse_error(std::string_view text) {
  try {
    parse(text, "t.lua");
  } catch (const ParseError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string write_error(const Value& value, std::string_view name = "DB") {
  try {
    write(name, value);
  } catch (const WriteError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string all_bytes() {
  std::string s;
  for (int c = 0; c < 256; ++c) s.push_back(static_cast<char>(c));
  return s;
}

double number_of(std::string_view text) {
  return parse_one(text).as_number();
}

// Deterministic on every platform: only raw mt19937_64 output is used.
struct Rng {
  std::mt19937_64 engine{20240613};
  std::uint64_t below(std::uint64_t n) { return engine() % n; }
  bool chance(std::uint64_t one_in) { return below(one_in) == 0; }
};

double random_number(Rng& rng) {
  static const double special[] = {0.0,
                                   -0.0,
                                   1,
                                   -1,
                                   0.1,
                                   0.5,
                                   1e300,
                                   -1e300,
                                   -9007199254740992.0,
                                   9007199254740992.0,
                                   9007199254740991.0,
                                   9007199254740994.0,
                                   5e-324,
                                   -5e-324,
                                   DBL_MIN,
                                   DBL_MAX,
                                   -DBL_MAX,
                                   1.0 / 3,
                                   0.1 + 0.2,
                                   123456.789,
                                   1e-7,
                                   1e21,
                                   1e15 + 0.5,
                                   4294967296.0,
                                   -2147483648.0};
  switch (rng.below(4)) {
    case 0:
      return special[rng.below(std::size(special))];
    case 1:
      return static_cast<double>(static_cast<std::int64_t>(rng.below(1ull << 32)) - (1ll << 31));
    case 2:
      return static_cast<double>(static_cast<std::int64_t>(rng.below(1ull << 54)) - (1ll << 53));
    default:
      while (true) {
        std::uint64_t bits = rng.engine();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        if (std::isfinite(d)) return d;
      }
  }
}

std::string random_string(Rng& rng) {
  if (rng.chance(20)) return all_bytes();
  std::string s(rng.below(24), '\0');
  bool binary = rng.chance(2);
  for (char& c : s) {
    // Binary strings favour the bytes that need escaping, and digits right after them.
    static const char tricky[] =
        "\0\n\r\\\"'\x7F\x1F"
        "0123456789[]=-";
    c = binary ? (rng.chance(2) ? tricky[rng.below(sizeof tricky - 1)]
                                : static_cast<char>(rng.below(256)))
               : static_cast<char>('a' + rng.below(26));
  }
  return s;
}

Value random_key(Rng& rng) {
  switch (rng.below(6)) {
    case 0:
      return static_cast<int>(rng.below(12));  // collides with array parts
    case 1:
      return random_number(rng);
    case 2:
      return rng.chance(2);
    default:
      return random_string(rng);
  }
}

Value random_value(Rng& rng, int depth) {
  switch (rng.below(depth >= 5 ? 4 : 6)) {
    case 0:
      return rng.chance(2);
    case 1:
      return random_number(rng);
    case 2:
    case 3:
      return random_string(rng);
    default: {
      Table t;
      std::uint64_t items = rng.below(6);
      for (std::uint64_t i = 1; i <= items; ++i) t.set(i, random_value(rng, depth + 1));
      std::uint64_t fields = rng.below(depth == 0 ? 16 : 6);
      for (std::uint64_t i = 0; i < fields; ++i) {
        t.set(random_key(rng), random_value(rng, depth + 1));
      }
      return t;
    }
  }
}

// A chain of tables `depth` levels deep.
Value nested(int depth) {
  Value v = "bottom";
  for (int i = 0; i < depth; ++i) v = Table{{1, v}};
  return v;
}

}  // namespace

TEST_CASE("parse: nil, booleans and numbers") {
  CHECK(parse("X = nil", "t.lua").empty());
  CHECK(parse_one("true") == Value(true));
  CHECK(parse_one("false") == Value(false));
  CHECK(number_of("0") == 0);
  CHECK(number_of("42") == 42);
  CHECK(number_of("-42") == -42);
  CHECK(number_of("- 7") == -7);
  CHECK(number_of("3.25") == 3.25);
  CHECK(number_of(".5") == 0.5);
  CHECK(number_of("5.") == 5);
  CHECK(number_of("1e3") == 1000);
  CHECK(number_of("1E+3") == 1000);
  CHECK(number_of("2.5e-3") == 0.0025);
  CHECK(number_of("0x1F") == 31);
  CHECK(number_of("0Xff") == 255);
  CHECK(number_of("-0x10") == -16);
  CHECK(number_of("0xFFFFFFFFFFFFFFFF") == 18446744073709551615.0);
  CHECK(number_of("0.1") == 0.1);
  CHECK(number_of("4.9406564584124654e-324") == 5e-324);
  CHECK(number_of("1.7976931348623157e308") == DBL_MAX);
  CHECK(number_of("1e-400") == 0);  // underflows to 0, as strtod does for Lua
  CHECK(number_of("0.00001e-320") == 0);
  CHECK(std::signbit(number_of("-0")));
}

TEST_CASE("parse: quoted strings and every escape") {
  CHECK(parse_one(R"("plain")").as_string() == "plain");
  CHECK(parse_one(R"('single')").as_string() == "single");
  CHECK(parse_one(R"("it's")").as_string() == "it's");
  CHECK(parse_one(R"('say "hi"')").as_string() == "say \"hi\"");
  CHECK(parse_one(R"("")").as_string().empty());
  CHECK(parse_one(R"("\a\b\f\n\r\t\v\\\"\'")").as_string() == "\a\b\f\n\r\t\v\\\"'");
  CHECK(parse_one(R"('\"\'')").as_string() == "\"'");
  CHECK(parse_one(R"("\0\00\000")").as_string() == std::string(3, '\0'));
  CHECK(parse_one(R"("\65\066\0671")").as_string() == "ABC1");  // at most three digits
  CHECK(parse_one(R"("\255\1")").as_string() == "\xFF\x01");
  // A backslash before a line break (how %q writes one) is a line break, for each convention.
  CHECK(parse_one("\"a\\\nb\"").as_string() == "a\nb");
  CHECK(parse_one("\"a\\\r\nb\"").as_string() == "a\nb");
  CHECK(parse_one("\"a\\\rb\"").as_string() == "a\nb");
  CHECK(parse_one("\"\xC3\xA9\x80\xFF\"").as_string() == "\xC3\xA9\x80\xFF");  // raw high bytes
  CHECK(parse_one(std::string("\"a\0b\"", 5)).as_string() == std::string("a\0b", 3));
  CHECK(parse_one("\"tab\there\"").as_string() == "tab\there");
}

TEST_CASE("parse: long strings") {
  CHECK(parse_one("[[hello]]").as_string() == "hello");
  CHECK(parse_one("[[\nfirst newline skipped]]").as_string() == "first newline skipped");
  CHECK(parse_one("[[\r\nCRLF skipped too]]").as_string() == "CRLF skipped too");
  CHECK(parse_one("[[\n\nonly one]]").as_string() == "\nonly one");
  CHECK(parse_one("[[a\r\nb\rc\n\rd]]").as_string() == "a\nb\nc\nd");  // line breaks become \n
  CHECK(parse_one("[[no \\n escapes \"here\"]]").as_string() == "no \\n escapes \"here\"");
  CHECK(parse_one("[==[a]]b]=]c]===]d]==]").as_string() == "a]]b]=]c]===]d");
  CHECK(parse_one("[=[x[[y]]z]=]").as_string() == "x[[y]]z");
  CHECK(parse_one("[[]]").as_string().empty());
}

TEST_CASE("parse: comments") {
  Variables vars = parse(
      "-- a line comment\n"
      "A = 1 -- after a value\n"
      "--[[ a long\n comment ]] B = --[==[ inline ]] ]=] ]==] 2\n"
      "--[ not long, just a line comment\n"
      "C = { --[[ inside ]] 3, -- [2]\n 4 }\n"
      "-- the last line has no line break",
      "t.lua");
  REQUIRE(vars.size() == 3);
  CHECK(vars[0] == std::pair<std::string, Value>{"A", 1});
  CHECK(vars[1] == std::pair<std::string, Value>{"B", 2});
  CHECK(vars[2] == std::pair<std::string, Value>{"C", Table{{1, 3}, {2, 4}}});
  CHECK(parse("--", "t.lua").empty());
  CHECK(parse("", "t.lua").empty());
}

TEST_CASE("parse: table constructors") {
  SUBCASE("positional, named and bracketed fields mix, with either separator") {
    Value v = parse_one(
        R"({ "a", name = 1; ["key with spaces"] = 2, "b", [10] = "ten"; [true] = false, })");
    const Table& t = v.as_table();
    CHECK(t.size() == 6);
    CHECK(*t.find(1) == Value("a"));
    CHECK(*t.find(2) == Value("b"));
    CHECK(*t.find("name") == Value(1));
    CHECK(*t.find("key with spaces") == Value(2));
    CHECK(*t.find(10) == Value("ten"));
    CHECK(*t.find(Value(true)) == Value(false));
    // Kept in the order keys were first assigned.
    CHECK(t.entries()[1].first == Value("name"));
  }
  SUBCASE("positional nils leave holes but still count") {
    const Table t = parse_one("{ nil, 'two', nil, 'four', nil }").as_table();
    CHECK(t.size() == 2);
    CHECK(t.find(1) == nullptr);
    CHECK(*t.find(2) == Value("two"));
    CHECK(*t.find(4) == Value("four"));
    CHECK(t.find(5) == nullptr);
  }
  SUBCASE("a later assignment to a key wins, and nil removes it") {
    CHECK(parse_one("{ a = 1, a = 2 }") == Value(Table{{"a", 2}}));
    CHECK(parse_one("{ a = 1, a = nil }") == Value(Table{}));
    CHECK(parse_one("{ a = 1, a = nil, a = 3 }") == Value(Table{{"a", 3}}));
    CHECK(parse_one("{ [1] = 'x', 'y' }") == Value(Table{{1, "y"}}));
    CHECK(parse_one("{ 'y', [1] = 'x' }") == Value(Table{{1, "x"}}));
    CHECK(parse_one("{ [1] = 'x', nil }") == Value(Table{}));
    CHECK(parse_one("{ ['a'] = 1, a = 2 }") == Value(Table{{"a", 2}}));
    CHECK(parse_one("{ [2] = 1, [2.0] = 2, [0] = 3, [-0] = 4 }") == Value(Table{{2, 2}, {0, 4}}));
  }
  SUBCASE("nested and empty tables") {
    Value v = parse_one("{ {}, { { 'deep' } }, inner = { x = -1.5 } }");
    CHECK(v ==
          Value(Table{
              {1, Table{}}, {2, Table{{1, Table{{1, "deep"}}}}}, {"inner", Table{{"x", -1.5}}}}));
    CHECK(v.find(2)->find(1)->find(1)->as_string() == "deep");
    CHECK(v.find("inner")->find("x")->as_number() == -1.5);
    CHECK(v.find("missing") == nullptr);
    CHECK(v.find(1)->find(1) == nullptr);
    CHECK(v.find("inner")->find("x")->find("not a table") == nullptr);
  }
  SUBCASE("string, number and boolean keys of every spelling") {
    Value v = parse_one(
        R"({ ["\0"] = 1, [ [[long]] ] = 2, [-3] = 3, [0.5] = 4, [1e300] = 5, [false] = 6 })");
    CHECK(*v.find(std::string(1, '\0')) == Value(1));
    CHECK(*v.find("long") == Value(2));
    CHECK(*v.find(-3) == Value(3));
    CHECK(*v.as_table().find(Value(0.5)) == Value(4));
    CHECK(*v.as_table().find(Value(1e300)) == Value(5));
    CHECK(*v.as_table().find(Value(false)) == Value(6));
  }
}

TEST_CASE("parse: top-level statements") {
  Variables vars = parse("B = 1; A = 'x' C = {} ; ; D = nil B = 2 E = false\n", "t.lua");
  REQUIRE(vars.size() == 4);
  CHECK(vars[0] == std::pair<std::string, Value>{"B", 2});  // first position, last value
  CHECK(vars[1] == std::pair<std::string, Value>{"A", "x"});
  CHECK(vars[2] == std::pair<std::string, Value>{"C", Table{}});
  CHECK(vars[3] == std::pair<std::string, Value>{"E", false});
  CHECK(parse("A = 1 A = nil", "t.lua").empty());
  CHECK(parse("\xEF\xBB\xBFX = 1", "t.lua").size() == 1);  // a byte order mark is skipped
  CHECK(parse("X = 1\r\nY = 2\r\n", "t.lua").size() == 2);
  CHECK(parse("_under_score9 = 1", "t.lua")[0].first == "_under_score9");
}

TEST_CASE("Table and Value accessors") {
  Table t;
  CHECK(t.empty());
  t.set("a", 1);
  t.set(1, "one");
  t.set(-0.0, "zero");
  t.set(true, Table{});
  CHECK(t.size() == 4);
  CHECK(t.find(0)->as_string() == "zero");  // 0 and -0 are one key
  CHECK(t.find(std::string("a"))->as_number() == 1);
  CHECK(t.find("a")->as_number() == 1);
  CHECK(t.find(Value(true))->is_table());
  CHECK(t.find("b") == nullptr);
  CHECK(t.find(2) == nullptr);
  t.set("a", 2);
  CHECK(t.size() == 4);
  CHECK(t.find("a")->as_number() == 2);
  t.set("a", Value());
  CHECK(t.size() == 3);
  CHECK(t.find("a") == nullptr);
  t.set("not there", Value());
  CHECK(t.size() == 3);

  CHECK_THROWS_WITH_AS(t.set(Value(), 1), "table key is nil", std::invalid_argument);
  CHECK_THROWS_WITH_AS(t.set(std::nan(""), 1), "table key is NaN", std::invalid_argument);
  CHECK_THROWS_WITH_AS(t.set(Table{}, 1), "tables as table keys are not supported",
                       std::invalid_argument);
  CHECK(t.find(Value(std::nan(""))) == nullptr);
  CHECK(t.find(Value()) == nullptr);

  Value v = 5;
  CHECK(v.is_number());
  CHECK(v.type() == Value::Type::Number);
  CHECK_THROWS_WITH_AS(v.as_string(), "expected a string, got a number", std::invalid_argument);
  CHECK_THROWS_WITH_AS(Value().as_table(), "expected a table, got nil", std::invalid_argument);
  CHECK(Value().is_nil());
  CHECK(type_name(Value::Type::Boolean) == "boolean");
  CHECK(Value(std::string_view("sv")) == Value(std::string("sv")));

  SUBCASE("equality ignores key order and looks deep") {
    Table a{{"x", 1}, {"y", Table{{1, "p"}, {2, "q"}}}};
    Table b{{"y", Table{{2, "q"}, {1, "p"}}}, {"x", 1}};
    CHECK(a == b);
    b.set("x", 1.5);
    CHECK_FALSE(a == b);
    CHECK_FALSE(Value(1) == Value("1"));
    CHECK_FALSE(Value(Table{{"x", 1}}) == Value(Table{{"x", 1}, {"y", 1}}));
    CHECK(Value(0.0) == Value(-0.0));
  }
  SUBCASE("large tables stay consistent across removals and copies") {
    Table big;
    for (int i = 0; i < 1000; ++i) big.set(i, i * 2);
    for (int i = 0; i < 1000; i += 3) big.set(i, Value());
    for (int i = 0; i < 1000; ++i) {
      const Value* found = big.find(i);
      if (i % 3 == 0) {
        CHECK(found == nullptr);
      } else {
        REQUIRE(found != nullptr);
        CHECK(found->as_number() == i * 2);
      }
    }
    Table copy = big;
    copy.set("extra", 1);
    CHECK(copy.find(1)->as_number() == 2);
    CHECK(copy.size() == big.size() + 1);
    CHECK(big.find("extra") == nullptr);
    copy = big;
    CHECK(copy == big);
  }
}

TEST_CASE("write: the game's exact style") {
  Value db = Table{{"key", "value"}, {"n", 5}, {"nested", Table{{1, "first"}, {2, "second"}}}};
  CHECK(write("Name", db) ==
        "Name = {\n"
        "\t[\"key\"] = \"value\",\n"
        "\t[\"n\"] = 5,\n"
        "\t[\"nested\"] = {\n"
        "\t\t\"first\", -- [1]\n"
        "\t\t\"second\", -- [2]\n"
        "\t},\n"
        "}\n");

  Value mixed =
      Table{{"z", 0.1}, {true, 1},    {false, 0},   {5, "five"}, {"b", Table{}},
            {1, "a"},   {0.5, false}, {2, Table{}}, {-1, true},  {"B", Table{{"c", Table{}}}}};
  CHECK(write("Mixed", mixed) ==
        "Mixed = {\n"
        "\t\"a\", -- [1]\n"
        "\t{\n"
        "\t}, -- [2]\n"
        "\t[-1] = true,\n"
        "\t[0.5] = false,\n"
        "\t[5] = \"five\",\n"
        "\t[\"B\"] = {\n"
        "\t\t[\"c\"] = {\n"
        "\t\t},\n"
        "\t},\n"
        "\t[\"b\"] = {\n"
        "\t},\n"
        "\t[\"z\"] = 0.1,\n"
        "\t[false] = 0,\n"
        "\t[true] = 1,\n"
        "}\n");

  CHECK(write("E", Table{}) == "E = {\n}\n");
  CHECK(write("S", "x") == "S = \"x\"\n");
  CHECK(write("N", Value()) == "N = nil\n");
  CHECK(write("T", true) == "T = true\n");
  // String keys sort by unsigned bytes.
  CHECK(write("K", Table{{"\xC3", 1}, {"a", 2}, {"A", 3}}) ==
        "K = {\n\t[\"A\"] = 3,\n\t[\"a\"] = 2,\n\t[\"\xC3\"] = 1,\n}\n");
}

TEST_CASE("write: numbers") {
  auto text = [](double x) {
    std::string s = write("X", x);
    return s.substr(4, s.size() - 5);
  };
  CHECK(text(0) == "0");
  CHECK(text(-0.0) == "0");  // the sign of zero is not kept
  CHECK(text(42) == "42");
  CHECK(text(-7) == "-7");
  CHECK(text(9007199254740991.0) == "9007199254740991");
  CHECK(text(-9007199254740991.0) == "-9007199254740991");
  CHECK(text(-9007199254740992.0) == "-9007199254740992");  // %.16g, not an integer
  CHECK(text(0.1) == "0.1");
  CHECK(text(1e300) == "1e+300");
  CHECK(text(5e-324) == "4.94065645841247e-324");
  CHECK(text(1.0 / 3) == "0.3333333333333333");
  CHECK(text(0.1 + 0.2) == "0.30000000000000004");
  CHECK(text(DBL_MAX) == "1.7976931348623157e+308");  // %.16g would overflow
  CHECK(text(1e21) == "1e+21");
  CHECK(text(2.5) == "2.5");
}

TEST_CASE("write: strings read back byte for byte") {
  CHECK(write("S", std::string("a\0"
                               "1\n\r\t\"\\'\x7F\x80",
                               11)) == "S = \"a\\0001\\n\\r\\009\\\"\\\\'\\127\x80\"\n");
  std::string bytes = all_bytes();
  Variables vars = parse(write("S", bytes), "t.lua");
  CHECK(vars[0].second.as_string() == bytes);
  Value keyed = Table{{bytes, bytes}};
  CHECK(parse(write("S", keyed), "t.lua")[0].second == keyed);
}

TEST_CASE("write then parse: random trees round-trip exactly") {
  Rng rng;
  for (int round = 0; round < 300; ++round) {
    CAPTURE(round);
    Value value = random_value(rng, 0);
    std::string text = write("Var_" + std::to_string(round), value);
    Variables vars = parse(text, "random.lua");
    REQUIRE(vars.size() == 1);
    CHECK(vars[0].first == "Var_" + std::to_string(round));
    CHECK(vars[0].second == value);
    // Writing is deterministic: whatever order keys were inserted in, the text is the same.
    CHECK(write(vars[0].first, vars[0].second) == text);
  }
  // Numbers compare bit for bit too (except the sign of zero).
  for (int i = 0; i < 2000; ++i) {
    double x = random_number(rng);
    double back = parse_one(write("X", x).substr(4)).as_number();
    CHECK((back == x && (x != 0 || !std::signbit(back))));
  }
}

TEST_CASE("write_file_contents: every variable in order, nils left out") {
  Variables vars{{"B", Table{{"x", 1}}}, {"Gone", Value()}, {"A", "text"}};
  std::string text = write_file_contents(vars);
  CHECK(text == "B = {\n\t[\"x\"] = 1,\n}\nA = \"text\"\n");
  Variables back = parse(text, "t.lua");
  REQUIRE(back.size() == 2);
  CHECK(back[0] == vars[0]);
  CHECK(back[1] == vars[2]);
  CHECK(write_file_contents({}).empty());
}

TEST_CASE("write: what a file cannot hold is refused, naming the path") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(write_error(Table{{"points", Table{{"Alice", nan}}}}, "GuildDKP_DB") ==
        "GuildDKP_DB.points.Alice: cannot save a NaN");
  CHECK(write_error(Table{{"log", Table{{1, "x"}, {2, inf}}}}) == "DB.log[2]: cannot save inf");
  CHECK(write_error(Table{{"odd key", Table{{7, Table{{true, -inf}}}}}}) ==
        "DB[\"odd key\"][7][true]: cannot save -inf");
  CHECK(write_error(Table{{"end", Table{{2.5, nan}}}}) == "DB[\"end\"][2.5]: cannot save a NaN");
  CHECK(write_error(Table{{"t", Table{{inf, 1}}}}) == "DB.t: cannot save the table key inf");
  CHECK(write_error(nan) == "DB: cannot save a NaN");
  CHECK(write_error(1, "not a name") ==
        "cannot save a variable named not a name: not a Lua identifier");
  CHECK(write_error(1, "end") == "cannot save a variable named end: not a Lua identifier");
  CHECK(write_error(1, "") == "cannot save a variable named : not a Lua identifier");
  CHECK_THROWS_AS(write_file_contents({{"ok", 1}, {"bad", inf}}), WriteError);

  CHECK(write_error(nested(kMaxDepth - 1)) == "(no error)");
  CHECK(write_error(nested(kMaxDepth)) == "(no error)");
  CHECK(write_error(nested(kMaxDepth + 1))
            .ends_with(": cannot save tables nested deeper than 200 levels"));
  CHECK(parse(write("X", nested(kMaxDepth)), "t.lua")[0].second == nested(kMaxDepth));
  CHECK(write_error(std::string(kMaxStringBytes + 1, 'x')) ==
        "DB: cannot save a string of 16777217 bytes (the limit is 16777216)");
}

TEST_CASE("parse errors name the place and the problem") {
  // Unterminated strings point at the opening quote.
  CHECK(parse_error("X = \"abc") == "t.lua:1:5: unterminated string (reached end of file)");
  CHECK(parse_error("X = 'ab\ncd'") == "t.lua:1:5: unterminated string (line break inside quotes)");
  CHECK(parse_error("X = \"ab\\") == "t.lua:1:5: unterminated string (reached end of file)");
  CHECK(parse_error("X = [[abc") == "t.lua:1:5: unterminated long string (reached end of file)");
  CHECK(parse_error("X = 1 --[==[ abc ]] ]=]") ==
        "t.lua:1:9: unterminated long comment (reached end of file)");
  CHECK(parse_error("X = [=x") == "t.lua:1:5: invalid long string delimiter");
  // Escapes point at the backslash.
  CHECK(parse_error("X = \"a\\qb\"") == "t.lua:1:7: invalid escape sequence '\\q'");
  CHECK(parse_error("X = \"a\\xFF\"") == "t.lua:1:7: invalid escape sequence '\\x'");
  CHECK(parse_error("X = \"\\256\"") == "t.lua:1:6: escape sequence '\\256' is larger than 255");
  CHECK(parse_error("X = \"\\\x01\"") ==
        "t.lua:1:6: invalid escape sequence: backslash before byte 0x01");
  // Structure.
  CHECK(parse_error("GuildDKP_DB = {\n\t[\"k\"] }") ==
        "t.lua:2:8: expected '=' after key, got '}'");
  CHECK(parse_error("X = { a }") == "t.lua:1:9: expected '=' after key 'a', got '}'");
  CHECK(parse_error("X = { [1 = 2 }") == "t.lua:1:10: expected ']' after key, got '='");
  CHECK(parse_error("X 5") == "t.lua:1:3: expected '=' after 'X', got the number '5'");
  CHECK(parse_error("X") == "t.lua:1:2: expected '=' after 'X', got end of file");
  CHECK(parse_error("X = {1, 2") ==
        "t.lua:1:10: expected '}' to close the '{' at 1:5, got end of file");
  CHECK(parse_error("X = {\n  {1,\n  2\n") ==
        "t.lua:4:1: expected '}' to close the '{' at 2:3, got end of file");
  CHECK(parse_error("X = {1 2}") ==
        "t.lua:1:8: expected ',' or '}' after a field of the '{' at 1:5, got the number '2'");
  CHECK(parse_error("X = {,}") == "t.lua:1:6: expected a value, got ','");
  CHECK(parse_error("X =") == "t.lua:1:4: expected a value, got end of file");
  CHECK(parse_error("X = y") == "t.lua:1:5: expected a value, got the name 'y'");
  CHECK(parse_error("X = inf") == "t.lua:1:5: expected a value, got the name 'inf'");
  CHECK(parse_error("X = -nan") == "t.lua:1:6: expected a number after '-', got the name 'nan'");
  CHECK(parse_error("X = --1") == "t.lua:1:8: expected a value, got end of file");
  CHECK(parse_error("X = - -1") == "t.lua:1:7: expected a number after '-', got '-'");
  CHECK(parse_error("X = -'1'") == "t.lua:1:6: expected a number after '-', got a string");
  CHECK(parse_error("X = end") == "t.lua:1:5: expected a value, got the keyword 'end'");
  // Keys.
  CHECK(parse_error("X = {[nil] = 1}") == "t.lua:1:7: table index is nil");
  CHECK(parse_error("X = {[{}] = 1}") == "t.lua:1:7: tables as table keys are not supported");
  // Numbers.
  CHECK(parse_error("X = 1e") == "t.lua:1:5: malformed number '1e'");
  CHECK(parse_error("X = 1e+") == "t.lua:1:5: malformed number '1e+'");
  CHECK(parse_error("X = 1.2.3") == "t.lua:1:5: malformed number '1.2.3'");
  CHECK(parse_error("X = 12abc") == "t.lua:1:5: malformed number '12abc'");
  CHECK(parse_error("X = 0x") == "t.lua:1:5: malformed number '0x'");
  CHECK(parse_error("X = 0x1p4") == "t.lua:1:5: malformed number '0x1p4'");
  CHECK(parse_error("X = 0x1.8") == "t.lua:1:5: malformed number '0x1.8'");
  CHECK(parse_error("X = 1e400") == "t.lua:1:5: number '1e400' is too large");
  CHECK(parse_error("X = 0x10000000000000000") ==
        "t.lua:1:5: hex number '0x10000000000000000' does not fit in 64 bits");
  // What may stand at the top level.
  CHECK(parse_error("X = 1 2") == "t.lua:1:7: expected a variable name, got the number '2'");
  CHECK(parse_error("X = {} }") == "t.lua:1:8: expected a variable name, got '}'");
  CHECK(parse_error("end = 1") == "t.lua:1:1: expected a variable name, got the keyword 'end'");
  CHECK(parse_error("\"X\" = 1") == "t.lua:1:1: expected a variable name, got a string");
  CHECK(parse_error("X.y = 1") == "t.lua:1:2: unexpected character '.'");
  CHECK(parse_error("X, Y = 1, 2") == "t.lua:1:2: expected '=' after 'X', got ','");
  CHECK(parse_error("local X = 1") ==
        "t.lua:1:1: expected a variable name, got the keyword 'local'");
  CHECK(parse_error("X = 1 + 2") == "t.lua:1:7: unexpected character '+'");
  // Bytes after the end.
  CHECK(parse_error(std::string("X = 1\0", 6)) == "t.lua:1:6: unexpected byte 0x00");
  CHECK(parse_error("X = {}\r\n\xFF\xFE") == "t.lua:2:1: unexpected byte 0xFF");
  CHECK(parse_error("X = 1\rY = 2\n\rZ") == "t.lua:3:2: expected '=' after 'Z', got end of file");
  // Names are shortened in messages.
  CHECK(parse_error(std::string(100, 'n')) ==
        "t.lua:1:101: expected '=' after 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...', got end of file");
}

TEST_CASE("ParseError carries the line and column") {
  try {
    parse("A = 1\nB = {\n  x = ?\n}", "GuildDKP_DB.lua");
    FAIL("no error");
  } catch (const ParseError& e) {
    CHECK(e.line() == 3);
    CHECK(e.column() == 7);
    CHECK(std::string(e.what()) == "GuildDKP_DB.lua:3:7: unexpected character '?'");
  }
}

TEST_CASE("hostile input: depth, size and garbage") {
  auto braces = [](int n) { return "X = " + std::string(n, '{') + std::string(n, '}'); };
  CHECK(parse(braces(kMaxDepth), "t.lua").size() == 1);
  CHECK(parse_error(braces(kMaxDepth + 1)) ==
        "t.lua:1:205: tables nested 201 levels deep (the limit is 200)");
  CHECK(parse_error("X = " + std::string(1000000, '{')) ==
        "t.lua:1:205: tables nested 201 levels deep (the limit is 200)");
  std::string keys;
  for (int i = 0; i < 300; ++i) keys += "{[";
  CHECK(parse_error("X = " + keys).ends_with(": tables nested 201 levels deep (the limit is 200)"));

  std::string biggest(kMaxStringBytes, 'x');
  CHECK(parse_one("\"" + biggest + "\"").as_string().size() == kMaxStringBytes);
  CHECK(parse_one("[[" + biggest + "]]").as_string().size() == kMaxStringBytes);
  CHECK(parse_error("X = \"" + biggest + "x\"") == "t.lua:1:5: string longer than 16777216 bytes");
  CHECK(parse_error("X = [==[" + biggest + "x]==]") ==
        "t.lua:1:5: string longer than 16777216 bytes");
  CHECK(parse("--[[" + biggest + biggest + "]]", "t.lua").empty());  // comments have no limit

  SUBCASE("many assignments to one key stay linear") {
    std::string text = "X = {";
    for (int i = 0; i < 100000; ++i) {
      text += "k" + std::to_string(i) + " = 1, k" + std::to_string(i) + " = nil, nil,";
    }
    Value v = parse_one(text.substr(4) + "}");
    CHECK(v.as_table().empty());
  }

  SUBCASE("random corruption of a valid file raises ParseError or parses to something writable") {
    Rng rng;
    std::string valid =
        write_file_contents({{"A", random_value(rng, 0)}, {"B", random_value(rng, 0)}}) +
        "C = [==[long\n]==] --[[ comment ]] D = { 'x'; y = 0x1F, [\"\\65\"] = -1.5e3 }\n";
    const char interesting[] = "{}[]=\"'\\-;,\n\r0x.e[[]]";
    int parsed = 0;
    for (int i = 0; i < 3000; ++i) {
      std::string text = valid;
      for (std::uint64_t edits = 1 + rng.below(4); edits > 0; --edits) {
        std::size_t at = rng.below(text.size() + 1);
        char c = rng.chance(2) ? interesting[rng.below(sizeof interesting - 1)]
                               : static_cast<char>(rng.below(256));
        switch (rng.below(3)) {
          case 0:
            text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
            break;
          case 1:
            if (at < text.size()) text.erase(at, 1);
            break;
          default:
            if (at < text.size()) text[at] = c;
            break;
        }
      }
      try {
        Variables vars = parse(text, "fuzz.lua");
        ++parsed;
        // Whatever parses can be written, and the writing reads back the same.
        std::string written = write_file_contents(vars);
        Variables again = parse(written, "again.lua");
        REQUIRE(again.size() == vars.size());
        for (std::size_t v = 0; v < vars.size(); ++v) CHECK(again[v] == vars[v]);
        CHECK(write_file_contents(again) == written);
      } catch (const ParseError& e) {
        CHECK(std::string(e.what()).starts_with("fuzz.lua:"));
      }
    }
    CHECK(parsed > 0);
  }

  SUBCASE("random bytes") {
    Rng rng;
    for (int i = 0; i < 2000; ++i) {
      std::string text(rng.below(64), '\0');
      for (char& c : text) c = static_cast<char>(rng.below(256));
      try {
        parse(text, "noise.lua");
      } catch (const ParseError&) {
      }
    }
  }
}

TEST_CASE("atomic file writes") {
  TempDir dir;
  const auto path = dir / "Addon.lua";
  auto only_target_remains = [&] {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      names.push_back(e.path().filename().string());
    }
    return names == std::vector<std::string>{"Addon.lua"};
  };

  SUBCASE("a write creates, then replaces, the file and leaves nothing else") {
    tally::write_file_atomically(path, "X = 1\n");
    CHECK(tally::read_file(path) == "X = 1\n");
    std::string binary = all_bytes();
    tally::write_file_atomically(path, binary);
    CHECK(tally::read_file(path) == binary);
    CHECK(only_target_remains());
    tally::write_file_atomically(path, "");
    CHECK(tally::read_file(path).empty());
  }

  SUBCASE("a failing write leaves the old file intact and no temporary file") {
    tally::write_file_atomically(path, "old contents");
    // A file size limit makes write() fail part way (EFBIG), even for root.
    struct rlimit saved {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = saved;
    small.rlim_cur = 1000;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string error;
    try {
      tally::write_file_atomically(path, std::string(100000, 'n'));
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);
    CHECK(error.find(path.string()) != std::string::npos);
    CHECK(error.find(std::strerror(EFBIG)) != std::string::npos);
    CHECK(tally::read_file(path) == "old contents");
    CHECK(only_target_remains());
  }

  SUBCASE("a failing rename leaves the target intact and no temporary file") {
    const auto target = dir / "occupied";
    std::filesystem::create_directory(target);
    tally::write_file_atomically(target / "inside", "kept");
    std::string error;
    try {
      tally::write_file_atomically(target, "X = 1\n");
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    CHECK(error.find(target.string()) != std::string::npos);
    CHECK(tally::read_file(target / "inside") == "kept");
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      CHECK(e.path().filename() == "occupied");
      ++entries;
    }
    CHECK(entries == 1);
  }

  SUBCASE("an unwritable directory leaves the old file intact") {
    tally::write_file_atomically(path, "old contents");
    if (::geteuid() == 0) {
      MESSAGE("skipped: permissions do not bind root");
      return;
    }
    std::filesystem::permissions(
        dir.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    std::string error;
    try {
      tally::write_file_atomically(path, "new");
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all);
    CHECK(error.find(path.string()) != std::string::npos);
    CHECK(error.find(std::strerror(EACCES)) != std::string::npos);
    CHECK(tally::read_file(path) == "old contents");
    CHECK(only_target_remains());
  }

  SUBCASE("the next write removes the temporary files of killed writers, and nothing else") {
    // A pid that no longer exists: a child that has exited and been reaped.
    pid_t dead = ::fork();
    REQUIRE(dead >= 0);
    if (dead == 0) ::_exit(0);
    REQUIRE(::waitpid(dead, nullptr, 0) == dead);
    const std::string stale = "Addon.lua.tmp-" + std::to_string(dead) + "-3";
    const std::vector<std::string> kept = {
        "Addon.lua.tmp-" + std::to_string(::getppid()) + "-0",  // a live writer's
        "Addon.lua.tmp-" + std::to_string(::getpid()) + "-99",  // this process's own
        "Other.lua.tmp-" + std::to_string(dead) + "-3",         // another target's
        "Addon.lua.tmp-" + std::to_string(dead) + "-3x",        // not our pattern
        "Addon.lua.tmp-" + std::to_string(dead),
        "Addon.lua.bak"};
    for (const std::string& name : kept) tally::write_file_atomically(dir / name, "other");
    std::ofstream(dir / stale) << "half a gener";
    tally::write_file_atomically(path, "X = 1\n");
    CHECK_FALSE(std::filesystem::exists(dir / stale));
    for (const std::string& name : kept) CHECK(tally::read_file(dir / name) == "other");
    CHECK(tally::read_file(path) == "X = 1\n");
  }

  SUBCASE("a missing directory or file is named in the error") {
    std::string error;
    try {
      tally::write_file_atomically(dir / "no/such/dir.lua", "x");
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    CHECK(error.find((dir / "no/such/dir.lua").string()) != std::string::npos);
    CHECK(error.find(std::strerror(ENOENT)) != std::string::npos);
    try {
      tally::read_file(dir / "missing.lua");
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    CHECK(error == "cannot open " + (dir / "missing.lua").string() + ": " + std::strerror(ENOENT));
  }
}

TEST_CASE("a SavedVariables file survives a trip to disk") {
  TempDir dir;
  Variables vars{
      {"GuildDKP_DB", Table{{"points", Table{{"Alice", 120}, {"Bob", -3.5}}},
                            {"log", Table{{1, "award\n"}, {2, std::string("\0bin", 4)}}}}},
      {"GuildDKP_Version", 3}};
  tally::write_file_atomically(dir / "GuildDKP.lua", write_file_contents(vars));
  Variables back = parse(tally::read_file(dir / "GuildDKP.lua"), "GuildDKP.lua");
  REQUIRE(back.size() == 2);
  CHECK(back[0] == vars[0]);
  CHECK(back[1] == vars[1]);
}
