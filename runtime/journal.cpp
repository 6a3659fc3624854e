// The journal file: writing records under an fsync policy, reading and repairing on open.
#include "runtime/journal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "runtime/atomic_file.hpp"

namespace tally {

namespace {

constexpr char kMagic[8] = {'T', 'A', 'L', 'L', 'Y', 'J', 'N', 'L'};
constexpr std::size_t kRecordHead = 12;  // u32 length + u64 checksum
// Largest body: entry fixed part (14) + kind byte + the largest payload.
constexpr std::size_t kMaxBody = 1 + 14 + kMaxPayloadBytes;
constexpr std::uint8_t kTypeRecord = 1;
constexpr std::uint8_t kEntryRecord = 2;

void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint64_t body_checksum(const std::uint8_t* body, std::size_t size) {
  return XXH3_64bits_withSeed(body, size, size);
}

std::string sys_error(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

// Parses one checksum-valid record body into `contents`; returns an error text if malformed.
std::optional<std::string> parse_body(const std::uint8_t* body, std::size_t size,
                                      JournalContents& contents,
                                      std::vector<std::uint16_t>& entry_type_ids) {
  if (size == 0) return "empty record";
  if (body[0] == kTypeRecord) {
    if (size < 4) return "truncated type record";
    auto id = static_cast<std::uint16_t>(get_le(body + 1, 2));
    std::string_view name(reinterpret_cast<const char*>(body + 3), size - 3);
    if (id != contents.type_names.size()) return "type record out of sequence";
    try {
      validate_type_name(name);
    } catch (const InvalidEntry& e) {
      return e.what();
    }
    contents.type_names.emplace_back(name);
    return std::nullopt;
  }
  if (body[0] != kEntryRecord) return "unknown record kind " + std::to_string(body[0]);
  if (size < 15) return "truncated entry record";
  EncodedEntry e;
  e.key.timestamp = static_cast<std::uint32_t>(get_le(body + 1, 4));
  e.key.counter = body[5];
  e.key.realm = static_cast<std::uint16_t>(get_le(body + 6, 2));
  e.key.creator = static_cast<std::uint32_t>(get_le(body + 8, 4));
  auto type_id = static_cast<std::uint16_t>(get_le(body + 12, 2));
  e.revision = body[14];
  e.payload = std::span<const std::uint8_t>(body + 15, size - 15);
  if (type_id >= contents.type_names.size()) {
    return "entry refers to undefined type id " + std::to_string(type_id);
  }
  if (auto err = check_payload(e.payload)) return *err;
  contents.entries.push_back(e);
  entry_type_ids.push_back(type_id);
  return std::nullopt;
}

// A record that starts at `pos` and whose length and checksum hold.
bool record_at(std::span<const std::uint8_t> bytes, std::size_t pos, std::size_t& body_size,
               std::string* why) {
  if (bytes.size() - pos < kRecordHead) {
    if (why) *why = "torn record header";
    return false;
  }
  body_size = static_cast<std::size_t>(get_le(bytes.data() + pos, 4));
  if (body_size == 0 || body_size > kMaxBody) {
    if (why) *why = "impossible record length " + std::to_string(body_size);
    return false;
  }
  if (bytes.size() - pos - kRecordHead < body_size) {
    if (why) *why = "torn record (" + std::to_string(body_size) + "-byte body runs past the end)";
    return false;
  }
  std::uint64_t stored = get_le(bytes.data() + pos + 4, 8);
  if (stored != body_checksum(bytes.data() + pos + kRecordHead, body_size)) {
    if (why) *why = "checksum mismatch";
    return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading

MappedFile MappedFile::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw JournalError(sys_error("cannot open journal", path));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw JournalError(sys_error("cannot stat journal", path));
  }
  MappedFile f;
  f.size_ = static_cast<std::size_t>(st.st_size);
  if (f.size_ > 0) {
    void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw JournalError(sys_error("cannot map journal", path));
    }
    f.data_ = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);
  return f;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

std::vector<std::uint8_t> journal_header(std::string_view ledger_id) {
  if (ledger_id.size() > kMaxLedgerIdLength) {
    throw JournalError("ledger id longer than " + std::to_string(kMaxLedgerIdLength) + " bytes");
  }
  std::vector<std::uint8_t> h(kMagic, kMagic + sizeof kMagic);
  put_le(h, kJournalFormatVersion, 2);
  put_le(h, 0, 2);
  h.push_back(static_cast<std::uint8_t>(ledger_id.size()));
  h.insert(h.end(), ledger_id.begin(), ledger_id.end());
  put_le(h, XXH3_64bits(h.data(), h.size()), 8);
  return h;
}

JournalScan read_journal(std::span<const std::uint8_t> bytes, std::string_view source_name,
                         std::string_view expected_ledger_id, JournalContents& contents) {
  const std::string src(source_name);
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    throw JournalError(src + ": not a Tally journal (bad magic); refusing to touch it");
  }
  if (bytes.size() < 13) throw JournalError(src + ": journal header is truncated");
  auto version = static_cast<std::uint16_t>(get_le(bytes.data() + 8, 2));
  if (version > kJournalFormatVersion) {
    throw JournalError(src + ": journal format " + std::to_string(version) +
                       " is newer than this build reads (" +
                       std::to_string(kJournalFormatVersion) + "); refusing to touch it");
  }
  if (version == 0) throw JournalError(src + ": journal format 0 is not valid");
  std::size_t id_len = bytes[12];
  std::size_t header_size = 13 + id_len + 8;
  if (bytes.size() < header_size) throw JournalError(src + ": journal header is truncated");
  if (get_le(bytes.data() + 13 + id_len, 8) != XXH3_64bits(bytes.data(), 13 + id_len)) {
    throw JournalError(src + ": journal header checksum mismatch; refusing to touch it");
  }
  std::string_view id(reinterpret_cast<const char*>(bytes.data() + 13), id_len);
  if (!expected_ledger_id.empty() && id != expected_ledger_id) {
    throw JournalError(src + ": journal belongs to ledger '" + std::string(id) + "', not '" +
                       std::string(expected_ledger_id) + "'; refusing to touch it");
  }

  JournalScan scan;
  scan.header_size = header_size;
  std::vector<std::uint16_t> entry_type_ids;
  // Reserve for the smallest plausible record so the vectors grow at most once.
  std::size_t estimate = (bytes.size() - header_size) / 32;
  contents.entries.reserve(estimate);
  entry_type_ids.reserve(estimate);
  scan.records.reserve(estimate);
  std::size_t pos = header_size;
  while (pos < bytes.size()) {
    std::size_t body_size = 0;
    std::string why;
    if (record_at(bytes, pos, body_size, &why)) {
      auto err = parse_body(bytes.data() + pos + kRecordHead, body_size, contents, entry_type_ids);
      if (!err) {
        scan.records.emplace_back(pos, kRecordHead + body_size);
        pos += kRecordHead + body_size;
        continue;
      }
      why = "malformed record: " + *err;
    }
    // Skip to the next offset where a whole valid record starts, if any.
    BadRegion bad{pos, bytes.size(), why};
    for (std::size_t next = pos + 1; next + kRecordHead <= bytes.size(); ++next) {
      std::size_t size = 0;
      if (record_at(bytes, next, size, nullptr)) {
        bad.end = next;
        break;
      }
    }
    scan.bad_regions.push_back(bad);
    pos = bad.end;
  }
  for (std::size_t i = 0; i < contents.entries.size(); ++i) {
    contents.entries[i].type = contents.type_names[entry_type_ids[i]];
  }
  return scan;
}

// ---------------------------------------------------------------------------------------------
// Opening and repairing

Journal::Journal(std::filesystem::path path, int fd, JournalOptions options)
    : path_(std::move(path)), fd_(fd), options_(options) {
  if (options_.fsync == FsyncPolicy::Interval) {
    syncer_ = std::make_unique<JournalSyncer>(fd_, path_, options_.interval);
  }
}

Journal::Journal(Journal&& o) noexcept
    : path_(std::move(o.path_)),
      fd_(std::exchange(o.fd_, -1)),
      options_(o.options_),
      buffer_(std::move(o.buffer_)),
      type_ids_(std::move(o.type_ids_)),
      appended_(o.appended_),
      written_(o.written_),
      durable_(o.durable_),
      syncer_(std::move(o.syncer_)) {}

Journal& Journal::operator=(Journal&& o) noexcept {
  if (this != &o) {
    try {
      close();
    } catch (...) {
      // A failed close of the old file cannot be reported from a move.
    }
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    options_ = o.options_;
    buffer_ = std::move(o.buffer_);
    type_ids_ = std::move(o.type_ids_);
    appended_ = o.appended_;
    written_ = o.written_;
    durable_ = o.durable_;
    syncer_ = std::move(o.syncer_);
  }
  return *this;
}

Journal::~Journal() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; callers who care call close() themselves.
  }
}

Journal Journal::open(const std::filesystem::path& path, std::string_view ledger_id,
                      JournalOptions options, JournalContents& contents) {
  const std::string name = path.string();
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (!exists || std::filesystem::file_size(path, ec) == 0) {
    // New journals appear whole: header written to a temporary file, then renamed.
    auto header = journal_header(ledger_id);
    write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(header.data()),
                                                 header.size()));
  }
  contents.file = MappedFile::open(path);
  std::span<const std::uint8_t> bytes = contents.file.bytes();
  JournalScan scan = read_journal(bytes, name, ledger_id, contents);

  std::size_t keep = bytes.size();
  if (scan.bad_regions.size() == 1 && scan.bad_regions[0].end == bytes.size()) {
    // Only the tail is bad: what a crash mid-append leaves. Cut it off.
    const BadRegion& bad = scan.bad_regions[0];
    keep = bad.begin;
    contents.warnings.push_back(name + ": offset " + std::to_string(bad.begin) + ": " +
                                bad.reason + "; cut off " + std::to_string(bad.end - bad.begin) +
                                " bytes of torn tail");
    if (::truncate(name.c_str(), static_cast<off_t>(keep)) != 0) {
      throw JournalError(sys_error("cannot truncate torn tail of", path));
    }
  } else if (!scan.bad_regions.empty()) {
    // Corruption with valid records after it: keep every valid record, keep the original.
    auto backup = path;
    backup += ".corrupt-" + std::to_string(std::time(nullptr));
    std::filesystem::copy_file(path, backup, std::filesystem::copy_options::overwrite_existing,
                               ec);
    if (ec) throw JournalError("cannot back up corrupt journal " + name + ": " + ec.message());
    std::string rebuilt(reinterpret_cast<const char*>(bytes.data()), scan.header_size);
    for (auto [offset, size] : scan.records) {
      rebuilt.append(reinterpret_cast<const char*>(bytes.data() + offset), size);
    }
    for (const BadRegion& bad : scan.bad_regions) {
      contents.warnings.push_back(name + ": offset " + std::to_string(bad.begin) + ": " +
                                  bad.reason + "; skipped " + std::to_string(bad.end - bad.begin) +
                                  " bytes");
    }
    contents.warnings.push_back(name + ": salvaged " + std::to_string(scan.records.size()) +
                                " valid records; the original is kept as " + backup.string());
    write_file_atomically(path, rebuilt);
  }

  int fd = ::open(name.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw JournalError(sys_error("cannot open journal", path));
  Journal journal(path, fd, options);
  for (std::size_t i = 0; i < contents.type_names.size(); ++i) {
    journal.type_ids_.emplace(contents.type_names[i], static_cast<std::uint16_t>(i));
  }
  return journal;
}

// ---------------------------------------------------------------------------------------------
// Writing

std::uint16_t Journal::journal_type_id(std::string_view type) {
  if (auto it = type_ids_.find(std::string(type)); it != type_ids_.end()) return it->second;
  if (type_ids_.size() > 0xffff) throw JournalError(path_.string() + ": too many entry types");
  auto id = static_cast<std::uint16_t>(type_ids_.size());
  body_.clear();
  body_.push_back(kTypeRecord);
  put_le(body_, id, 2);
  body_.insert(body_.end(), type.begin(), type.end());
  write_record(body_);
  type_ids_.emplace(std::string(type), id);
  return id;
}

void Journal::write_record(std::span<const std::uint8_t> body) {
  put_le(buffer_, body.size(), 4);
  put_le(buffer_, body_checksum(body.data(), body.size()), 8);
  buffer_.insert(buffer_.end(), body.begin(), body.end());
}

void Journal::append(const EncodedEntry& entry) {
  if (fd_ < 0) throw JournalError(path_.string() + ": journal is closed");
  std::uint16_t type_id = journal_type_id(entry.type);
  body_.clear();
  body_.push_back(kEntryRecord);
  put_le(body_, entry.key.timestamp, 4);
  body_.push_back(entry.key.counter);
  put_le(body_, entry.key.realm, 2);
  put_le(body_, entry.key.creator, 4);
  put_le(body_, type_id, 2);
  body_.push_back(entry.revision);
  body_.insert(body_.end(), entry.payload.begin(), entry.payload.end());
  write_record(body_);
  ++appended_;

  switch (options_.fsync) {
    case FsyncPolicy::EveryEntry: sync(); break;
    case FsyncPolicy::Interval: syncer_->submit(buffer_, appended_); break;
    case FsyncPolicy::OnClose:
      if (buffer_.size() >= (1u << 16)) flush();
      break;
  }
}

void Journal::append(const EntryView& entry) {
  append(EncodedEntry{entry.key(), entry.type(), entry.revision(), entry.payload_bytes()});
}

void Journal::flush() {
  if (syncer_) return syncer_->drain();
  std::size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Drop what was written; keep the rest so a later flush can retry.
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(done));
      throw JournalError(sys_error("cannot write journal", path_));
    }
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
  written_ = appended_;
}

void Journal::sync() {
  if (fd_ < 0) return;
  if (syncer_) return syncer_->drain();
  flush();
  if (::fdatasync(fd_) != 0) throw JournalError(sys_error("cannot fsync journal", path_));
  durable_ = written_;
}

void Journal::poll() {
  if (syncer_) syncer_->check();
}

void Journal::stop_syncer() {
  if (!syncer_) return;
  durable_ = syncer_->durable();
  syncer_.reset();
}

void Journal::close() {
  if (fd_ < 0) return;
  int fd = fd_;
  try {
    sync();
  } catch (...) {
    stop_syncer();
    fd_ = -1;
    ::close(fd);
    throw;
  }
  stop_syncer();
  fd_ = -1;
  if (::close(fd) != 0) throw JournalError(sys_error("cannot close journal", path_));
}

}  // namespace tally
