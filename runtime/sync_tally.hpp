// Tally's sync protocol. Every message is a broadcast, so one answer serves every listener with
// the same gap.
//
// - Adverts: {count, fingerprint (sum of 64-bit content hashes), newest second} every ~30 s and
//   soon after a change. Equal count and fingerprint = in sync: one message confirms it, and
//   it covers content, not just keys.
// - Recent appends: a peer whose advert equals our prefix up to its newest second lacks only
//   our later entries; we push exactly those (after a random backoff; a push for the same
//   advert heard from another peer cancels ours).
// - Anything else (scattered gaps, same key with different content): range-based
//   reconciliation. The initiator sends fingerprints of `buckets` ranges of its ledger; the
//   answer splits ranges that differ, or lists ids (key + content tag) once a range holds at
//   most `id_list_max` entries; ids resolve into the entries each side lacks (sent) and a Need
//   for the rest. Round trips ~ log_buckets(n / id_list_max).
// - Not blockable: answering is by randomized backoff with suppression. A peer Claims a session
//   before answering; the others wait, and bypass a claimer that stays silent for
//   `claim_timeout`. There is no priority to fake, and adverts faster than one per
//   `peer_advert_min_interval` per peer are ignored.
// - New local entries are pushed to everyone within `push_delay`.
// Received entries go to the ledger's remote queue, which authorizes each one (entry, sender)
// before it is committed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/sync_endpoint.hpp"

namespace tally {

inline constexpr std::uint16_t kTallySyncVersion = 1;

struct TallySyncConfig {
  double advert_interval = 30;         // periodic adverts, jittered by +-20 %
  double advert_after_change = 2;      // a changed ledger advertises about this soon
  double min_advert_spacing = 5;       // and never more often than this
  double peer_advert_min_interval = 2; // a peer's adverts faster than this are ignored
  double push_delay = 0.5;             // new local entries wait this long to travel together
  double backoff_max = 2;              // randomized backoff before answering or pushing
  double claim_timeout = 20;           // a claimer silent this long is bypassed
  double session_timeout = 30;         // a reconciliation quiet this long is over
  double serving_quiet = 6;            // after another peer served entries, wait this long
  double behind_wait = 8;              // a peer ahead by appends gets this long to push
  std::size_t buckets = 16;
  std::size_t id_list_max = 32;
  std::size_t max_push_entries = 4000;   // per push; the peer's next advert asks for the rest
  std::size_t max_reply_bytes = 2000;    // a Ranges reply splits ranges until about this size
  std::size_t max_backlog_frames = 64;   // no new answers while the transport holds more
};

class TallySync : public SyncEndpoint {
 public:
  explicit TallySync(SyncContext context, TallySyncConfig config = {});

  void receive(const std::string& sender, const SyncMessage& message, double now) override;
  void tick(double now) override;
  void local_insert(const EntryKey& key, double now) override;

  // One round of reconciliation as the protocol computes it (exposed for tests): the answer
  // to `ranges`, the keys to send and the keys to ask for.
  struct Reply {
    std::vector<RangeItem> items;
    std::vector<EntryKey> send;
    std::vector<EntryKey> need;
    bool open() const;  // some range still needs another round
  };
  Reply reconcile(const Ranges& ranges) const;
  static constexpr std::size_t kFingerprintItemBytes = 16;  // bound + count + sum, roughly
  static constexpr std::size_t kIdBytes = 10;               // key delta + content tag, roughly
  // The opening message of a reconciliation over the whole ledger.
  Ranges opening(std::uint32_t session) const;

 private:
  // A reconciliation this client started.
  struct OwnSession {
    std::uint32_t id;
    double deadline;
    std::string responder;  // the first peer that answered; later answers are ignored
  };
  // A reconciliation another client started.
  struct ForeignSession {
    std::string initiator;
    std::optional<Ranges> last;      // the initiator's latest Ranges
    std::string claimer;             // who answers it (empty: nobody yet)
    double claim_deadline = 0;
    std::optional<double> claim_at;  // when this client will claim it
    bool answering = false;
    double last_activity = 0;
  };
  struct SuffixPush {
    std::string peer;
    EntryKey from;
    double due;
  };

  void on_advert(const std::string& sender, const Advert& advert, double now);
  void on_ranges(const std::string& sender, const Ranges& ranges, double now);
  void on_claim(const std::string& sender, const Claim& claim, double now);
  void on_need(const std::string& sender, const Need& need);
  void on_entries(const std::string& sender, const Entries& entries, double now);

  void advertise(double now);
  void run_suffix_pushes(double now);
  void run_sessions(double now);
  void start_session(double now);
  // Computes and sends the answer to `ranges`; true when another round is needed.
  bool answer(std::uint32_t session, const Ranges& ranges);
  void send_entries(std::uint32_t session, const std::vector<EntryKey>& keys);
  std::vector<RangeItem> split(std::size_t from, std::size_t to, const std::optional<EntryKey>& upper) const;
  RangeIds ids(std::size_t from, std::size_t to) const;
  bool differs_from_some_peer(double now) const;
  bool same_as_mine(const std::string& peer) const;
  void schedule_reconcile(double at);

  TallySyncConfig config_;
  SyncRandom random_;
  double next_advert_ = 0;
  double last_advert_ = -1e300;
  std::optional<Fingerprint> advertised_;
  std::optional<double> advert_at_;
  std::vector<EntryKey> new_entries_;
  std::optional<double> push_at_;
  std::map<std::uint32_t, SuffixPush> suffix_pushes_;  // by the tag of the peer's advert
  // Per peer: the first key not yet pushed to it, and when that was noted.
  std::map<std::string, std::pair<EntryKey, double>, std::less<>> pushed_;
  static constexpr double kPushMemorySeconds = 120;
  std::optional<double> reconcile_at_;
  std::optional<OwnSession> own_;
  std::map<std::uint32_t, ForeignSession> foreign_;
  double serving_until_ = -1e300;  // another peer served entries until then: do not compete
  double fed_until_ = -1e300;      // full frames of entries new to us kept arriving until then
  static constexpr std::size_t kFeedMinEntries = 6;
  // Whether the ledger grew over the last kGrowthWindow seconds.
  bool growing_ = false;
  std::size_t size_at_check_ = 0;
  double growth_checked_ = -1e300;
  static constexpr double kGrowthWindow = 20;
};

}  // namespace tally
