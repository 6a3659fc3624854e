// Whole-file reads and crash-safe whole-file writes (temporary file, fsync, rename).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tally {

// Replaces `path` with `contents` so that a crash leaves either the old or the new file, never
// a mix: write a temporary file beside it, fsync, rename over, fsync the directory.
// A writer killed mid-write leaves its temporary file ("<file>.tmp-<pid>-<n>"); the next write
// of the same file removes those whose process no longer exists.
// Throws std::runtime_error naming the path and the system error.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// Throws std::runtime_error naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace tally
