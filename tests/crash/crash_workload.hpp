// What the crash writer writes, as pure functions of a number: journal entry n and SavedVariables
// generation g. The checker recomputes them to compare byte for byte.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "runtime/entry.hpp"
#include "runtime/saved_variables.hpp"

namespace crash {

inline constexpr std::string_view kLedgerId = "crash";
inline constexpr std::string_view kSavedVariable = "CrashProbeDB";

// Entry n of the journal. Keys grow with n, so ledger order is submission order; every 11th
// entry has a second type, so type records keep appearing between entry records.
inline tally::Entry journal_entry(std::uint64_t n) {
  tally::Entry e;
  e.key = {static_cast<std::uint32_t>(1700000000 + n / 4), static_cast<std::uint8_t>(n % 4), 1,
           static_cast<std::uint32_t>(1000 + n % 7)};
  e.type = n % 11 == 0 ? "spend" : "award";
  std::string note(n * 37 % 200, ' ');
  for (std::size_t i = 0; i < note.size(); ++i) note[i] = static_cast<char>('a' + (n + i) % 26);
  e.payload.set("player", "P" + std::to_string(n % 97))
      .set("amount", static_cast<std::int64_t>(n % 50 + 1))
      .set("note", std::move(note))
      .set("seq", static_cast<std::int64_t>(n));
  return e;
}

// The whole SavedVariables file of generation g: between 0 and 1499 array items, so
// consecutive generations differ in size (up to ~40 KB) and a mix of two would not parse back.
inline std::string saved_variables_text(std::uint64_t generation) {
  namespace sv = tally::savedvars;
  sv::Table items;
  const std::uint64_t count = generation * 7919 % 1500;
  for (std::uint64_t i = 1; i <= count; ++i) {
    items.set(i, "generation " + std::to_string(generation) + " item " + std::to_string(i));
  }
  sv::Table db;
  db.set("generation", generation);
  db.set("items", std::move(items));
  return sv::write_file_contents({{std::string(kSavedVariable), std::move(db)}});
}

// The generation a SavedVariables file claims to be. Throws savedvars::ParseError, or
// std::runtime_error when the variable or its generation is missing.
inline std::uint64_t saved_generation(std::string_view text, std::string_view source_name) {
  for (const auto& [name, value] : tally::savedvars::parse(text, source_name)) {
    if (name != kSavedVariable) continue;
    if (const auto* generation = value.find("generation")) {
      return static_cast<std::uint64_t>(generation->as_number());
    }
  }
  throw std::runtime_error(std::string(source_name) + ": no " + std::string(kSavedVariable) +
                           ".generation");
}

}  // namespace crash
