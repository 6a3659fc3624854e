// The reference design's sync protocol, kept as the baseline Tally's protocol is measured
// against. Every message is a broadcast.
//
// - Adverts: every `advert_interval` seconds, {week, Adler-32 of the week's keys, count} for the
//   `recent_weeks` newest weeks and `rolling_weeks` older ones, cycling through the rest. A week
//   is advertised at most once per `inhibit` seconds, and not while a peer's matching advert of
//   it is that fresh (one advert confirms a week for everyone who holds the same).
// - Requests: a peer whose hash or count of an advertised week differs asks for the whole week
//   (at most once per week per `inhibit`), whichever side holds more.
// - Answers: the lowest-named client among those that advertised the week within
//   `advert_valid` with a hash other than the requester's answers after a random
//   [answer_delay_min, answer_delay_max) seconds with every entry of the week, at most once per
//   week per `inhibit`.
// - New local entries are broadcast at once, one message per entry.
//
// Its weaknesses are kept on purpose, so tests and `tally bench sync` can show them: the hash
// covers keys only (same key, other content is never noticed); one differing entry resends its
// whole week, from both sides; and a lowest-named peer that advertises and never answers
// blocks every week it advertises.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "runtime/sync_endpoint.hpp"

namespace tally {

struct ReferenceSyncConfig {
  double advert_interval = 10;
  std::uint32_t recent_weeks = 8;
  std::uint32_t rolling_weeks = 8;
  double advert_valid = 30;  // an advert makes its sender a candidate answerer this long
  double inhibit = 30;       // per week: one advert, one request, one answer per this long
  double answer_delay_min = 3;
  double answer_delay_max = 8;
};

class ReferenceSync : public SyncEndpoint {
 public:
  explicit ReferenceSync(SyncContext context, ReferenceSyncConfig config = {});

  void receive(const std::string& sender, const SyncMessage& message, double now) override;
  void tick(double now) override;
  void local_insert(const EntryKey& key, double now) override;

 private:
  // One week as an advert states it.
  struct WeekState {
    std::uint32_t adler = 0;
    std::uint32_t count = 0;
    friend bool operator==(const WeekState&, const WeekState&) = default;
  };
  struct Heard {
    WeekState state;
    double at = 0;
  };
  struct PendingAnswer {
    std::string requester;
    double due = 0;
  };

  void on_advert(const std::string& sender, const RefAdvert& advert, double now);
  void on_request(const std::string& sender, const RefRequest& request, double now);
  void advertise(double now);
  void add_week(RefAdvert& advert, std::uint32_t week, double now);
  // Whether this client is the one to answer `requester`'s request for `week` now.
  bool has_priority(std::uint32_t week, const std::string& requester, double now) const;
  void send_week(std::uint32_t week);
  WeekState mine(std::uint32_t week) const;
  void forget_expired(double now);

  ReferenceSyncConfig config_;
  SyncRandom random_;
  double next_advert_;
  std::uint32_t rolling_offset_ = 0;  // weeks below the recent ones where the next roll starts
  // Recent adverts per week and advertiser, this client's own included.
  std::map<std::uint32_t, std::map<std::string, Heard, std::less<>>> heard_;
  // Per week: until when this client does not advertise, request or answer it.
  std::map<std::uint32_t, double> advert_inhibited_;
  std::map<std::uint32_t, double> request_inhibited_;
  std::map<std::uint32_t, double> answer_inhibited_;
  std::map<std::uint32_t, PendingAnswer> answers_;
};

}  // namespace tally
