// The decoded form of ledger entries as the Lua replay loop reads them (FFI layouts: keep in
// step with ledger_api.lua).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tally {

// One decoded entry. 16 bytes.
struct ReplayRecord {
  std::uint32_t timestamp;
  std::uint32_t creator;
  std::uint16_t realm;
  std::uint16_t shape_id;     // 0: no mutator runs (an ignored entry, or an ignore entry)
  std::uint16_t first_value;  // index of its first field value in the batch's value array
  // 16 bits, not 8: the fetch loop then stores no byte, which the compiler would have to treat
  // as possibly changing any object (and reload the decoder's state after it).
  std::uint16_t counter;
};
static_assert(sizeof(ReplayRecord) == 16, "ReplayRecord is part of the FFI layout");

// What one fetch hands the replay loop.
struct ReplayBatch {
  const ReplayRecord* records;
  const double* values;  // values[records[i].first_value + field]; strings as interned ids
  std::uint32_t news;    // nonzero: strings or shapes the Lua side has not seen yet are waiting
};

}  // namespace tally
