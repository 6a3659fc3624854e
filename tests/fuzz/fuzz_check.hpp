// The fuzz targets' property check: report and abort, so libFuzzer keeps the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace tally::fuzz {

// abort() rather than an exception: a target must never be able to swallow a violation.
inline void require(bool ok, const char* property) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property violated: %s\n", property);
    std::abort();
  }
}

}  // namespace tally::fuzz
