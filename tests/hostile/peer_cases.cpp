// Hostile peers: an attacker client in the guild talks to the honest clients' sync links over
// the host's network (forged creators, floods, malformed and oversized frames, chunk floods,
// silent and falsely prior claimers, replays of huge ledgers). After each attack the honest
// clients must still agree, hold only what their policy allows, and have stayed responsive.
#include <random>

#include "hostile_case.hpp"
#include "hostile_world.hpp"
#include "runtime/sync_frames.hpp"

using namespace tally;
namespace fs = std::filesystem;

namespace hostile {

namespace {

using Breaches = std::vector<std::string>;

constexpr double kPeerTimeout = 60 * kSlowdown;
// Frames a flood sends per frame: fewer in slower sanitized builds.
constexpr int kPerFrame = kSanitized ? 25 : 100;
// Thousands of frames sent at once arrive in one frame, where every honest link decodes them:
// that frame and the next few, which commit the entries, may be slow. Later ones may not.
constexpr Expect kBulk{.slow_frames = 6};

// Room enough for any flood: the game's throttle would slow an attacker down; the receivers'
// own bounds must hold without it.
NetworkLimits unthrottled() {
  NetworkLimits limits;
  limits.bytes_per_second = 1e12;
  limits.burst_bytes = 1e12;
  limits.prefix_burst_messages = 1e12;
  limits.prefix_messages_per_second = 1e12;
  return limits;
}

WorldOptions peer_world(const fs::path& scratch, const std::string& attacker, bool throttled) {
  WorldOptions options;
  options.scratch = scratch;
  options.attacker = attacker;
  options.victim_memory = 16u << 20;  // the victim only runs Anchor here: a tight memory allowance
  options.victim_time_limit = ClientOptions{}.script_time_limit;
  if (!throttled) options.limits = unthrottled();
  return options;
}

std::vector<SyncLink*> honest_links(World& w) {
  std::vector<SyncLink*> out;
  for (Client* c : {&w.olwen, &w.osric, &w.victim, &w.bystander}) {
    if (LedgerBinding* b = c->ledgers().find("Anchor")) {
      if (SyncLink* link = c->ledgers().sync_of(b)) out.push_back(link);
    }
  }
  return out;
}

// Sums one number over the honest clients' Anchor ledgers and links.
template <typename Fn>
std::uint64_t total(World& w, Fn fn) {
  std::uint64_t sum = 0;
  for (Client* c : {&w.olwen, &w.osric, &w.victim, &w.bystander}) {
    LedgerBinding* b = c->ledgers().find("Anchor");
    SyncLink* link = b != nullptr ? c->ledgers().sync_of(b) : nullptr;
    if (link != nullptr) sum += fn(*b, *link);
  }
  return sum;
}

// One frame from the attacker to the guild on Anchor's sync prefix.
void send(World& w, const std::string& text) {
  w.host.network().send(w.attacker->id(), w.sync_prefix(), text, "GUILD");
}

void send_all(World& w, const std::vector<std::string>& frames) {
  for (const std::string& f : frames) send(w, f);
}

// A mark entry as Anchor makes them, by any creator.
Entry mark(std::uint32_t timestamp, std::uint32_t creator, std::int64_t n) {
  Entry e{{timestamp, 0, 0, creator}, "mark", 1, {}};
  e.payload.set("n", n);
  return e;
}

// Pushes of `entries` as Entries frames (session 0: unsolicited), the way TallySync pushes.
std::vector<std::string> push_frames(const std::vector<Entry>& entries) {
  FrameEncoder encoder(246);
  return encoder.encode_entry_frames({MessageKind::Entries, 0}, entries);
}

// A chunk frame written by hand, so its header can claim anything.
std::string chunk_frame(std::uint16_t id, std::uint8_t index, std::uint8_t count,
                        std::uint32_t total_bytes, std::size_t piece_bytes) {
  WireWriter w;
  w.fixed16(id);
  w.u8(index);
  w.u8(count);
  w.varint(total_bytes);
  w.raw(std::string(piece_bytes, 'p'));
  return std::string{static_cast<char>(kWireVersion), static_cast<char>(kChunkKind)} +
         escape_nul_free(w.data());
}

// The attack ran and the honest clients saw it: otherwise a passing case proves nothing.
void landed(Breaches& breaches, bool condition, const std::string& what) {
  if (!condition) breaches.push_back("the attack did not land: " + what);
}

Breaches finish(World& w, Breaches breaches, const Expect& expect = {}) {
  for (std::string& b : w.verify(expect)) breaches.push_back(std::move(b));
  return breaches;
}

// ---------------------------------------------------------------------------------------------

// Entries whose creator is no officer, pushed at the game's pace: refused on receipt.
Breaches forged_creators(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", true));
  std::uint32_t n = 0;
  const std::uint32_t creators[] = {w.attacker->options().player_id, w.victim.options().player_id,
                                    0xDEADBEEF};
  w.run(30, [&] {
    ++n;
    send_all(w, push_frames({mark(w.host.server_time() - 5, creators[n % 3], n)}));
  });
  Breaches breaches;
  landed(breaches,
         total(w, [](LedgerBinding& b, SyncLink&) { return b.remote_stats().refused; }) > 0,
         "no forged entry reached an authorization check");
  return finish(w, breaches);
}

// Thousands of entries claiming a member as their creator, sent at once: every one refused.
Breaches forged_creators_in_bulk(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  w.run(5);
  std::vector<Entry> forged;
  const std::uint32_t count = kSanitized ? 2000 : 10000;
  for (std::uint32_t i = 0; i < count; ++i)
    forged.push_back(mark(1700000000 + i, w.bystander.options().player_id, i));
  send_all(w, push_frames(forged));
  w.run(20);
  Breaches breaches;
  landed(breaches,
         total(w, [](LedgerBinding& b, SyncLink&) { return b.remote_stats().refused; }) >= count,
         "fewer forged entries refused than sent");
  return finish(w, breaches, kBulk);
}

// Adverts claiming a huge ledger, many per frame, each with another fingerprint.
Breaches advert_flood(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  std::mt19937 random(7);
  FrameEncoder encoder(246);
  w.run(30, [&] {
    for (int i = 0; i < kPerFrame / 2; ++i)
      send_all(w, encoder.encode(Advert{999999999, random(), 0xfffffff0u,
                                        static_cast<std::uint32_t>(random()), 1}));
  });
  Breaches breaches;
  landed(breaches,
         total(w, [](LedgerBinding&,
                     SyncLink& l) { return l.endpoint().counters().adverts_ignored; }) > 0,
         "no advert was ignored");
  return finish(w, breaches);
}

// Random bytes (no NUL, up to the game's 255), 2 * kPerFrame frames a frame.
Breaches garbage_frames(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  std::mt19937 random(11);
  w.run(10, [&] {
    for (int i = 0; i < 2 * kPerFrame; ++i) {
      std::string text(1 + random() % 255, '\1');
      for (char& c : text) c = static_cast<char>(1 + random() % 255);
      send(w, text);
    }
  });
  Breaches breaches;
  landed(breaches, total(w, [](LedgerBinding&, SyncLink& l) { return l.drops().total(); }) > 0,
         "nothing was dropped");
  return finish(w, breaches);
}

// Real frames (entries, adverts, chunks of a long message) cut at every length.
Breaches truncated_frames(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  w.run(5);
  std::vector<Entry> entries;
  for (std::uint32_t i = 0; i < 200; ++i)
    entries.push_back(mark(1700000000 + i, w.olwen.options().player_id, i));
  FrameEncoder encoder(246);
  std::vector<std::string> frames = push_frames(entries);
  for (std::string& f : encoder.encode(Advert{3, 4, 5, 6, 1})) frames.push_back(std::move(f));
  std::vector<EntryKey> keys;
  for (const Entry& e : entries) keys.push_back(e.key);
  for (std::string& f : encoder.encode(Need{42, keys})) frames.push_back(std::move(f));
  for (const std::string& f : frames) {
    for (std::size_t cut = 1; cut < f.size(); ++cut) send(w, f.substr(0, cut));
  }
  w.run(10);
  Breaches breaches;
  landed(breaches, total(w, [](LedgerBinding&, SyncLink& l) { return l.drops().total(); }) > 0,
         "nothing was dropped");
  // Truncated entry frames must not have brought in any of the officer's (unsent) entries.
  for (Client* c : {&w.olwen, &w.osric, &w.victim, &w.bystander}) {
    const Ledger& l = c->ledgers().find("Anchor")->ledger();
    if (l.find(entries[0].key))
      breaches.push_back(c->name() + " holds an entry from a truncated frame");
  }
  return finish(w, breaches);
}

// Frames over the game's 255 bytes: the network refuses them; a link handed one anyway (as by
// a server without the limit) drops it.
Breaches oversized_frames(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  w.run(5);
  FrameEncoder encoder(246);
  std::string advert = encoder.encode(Advert{1, 2, 3, 4, 1}).front();
  std::vector<std::string> huge = {advert + std::string(1000, 'x'),
                                   chunk_frame(9, 0, 255, 65025, 65000),
                                   std::string(1u << 20, '\x7f'), std::string(16u << 20, '\x01')};
  for (const std::string& text : huge) send(w, text);
  Breaches breaches;
  landed(breaches,
         w.host.network()
                 .stats(w.attacker->id())
                 .refused_for(SendAddonMessageResult::InvalidMessage) == huge.size(),
         "the network accepted a frame over 255 bytes");
  std::uint64_t drops_before =
      total(w, [](LedgerBinding&, SyncLink& l) { return l.drops().total(); });
  for (SyncLink* link : honest_links(w)) {
    for (const std::string& text : huge) link->on_frame("Mallory-Tally", text, w.host.now());
  }
  std::uint64_t drops =
      total(w, [](LedgerBinding&, SyncLink& l) { return l.drops().total(); }) - drops_before;
  if (drops < honest_links(w).size() * huge.size()) {
    breaches.push_back("only " + std::to_string(drops) + " oversized frames were dropped");
  }
  return finish(w, breaches);
}

// Chunks of messages that never complete, past the per-sender bounds: many open messages,
// messages larger than the byte bound, and chunks that contradict their message's others.
Breaches chunk_flood(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  std::uint16_t id = 0;
  w.run(20, [&] {
    for (int i = 0; i < kPerFrame; ++i, ++id) {
      send(w, chunk_frame(id, 0, 60, 15000, 200));  // fits the byte bound; never completes
      send(w, chunk_frame(id ^ 0x8000, 1, 255, 65025, 240));  // over the byte bound alone
      send(w, chunk_frame(id, 1, 61, 15250, 200));            // contradicts the first chunk of `id`
    }
  });
  Breaches breaches;
  std::uint64_t bounded = total(w, [](LedgerBinding&, SyncLink& l) {
    const DropCounters& d = l.drops();
    return d.evicted_open_limit + d.evicted_byte_limit + d.too_large + d.conflicting_chunks;
  });
  landed(breaches, bounded > 0, "no chunk was evicted or refused");
  return finish(w, breaches);
}

// A peer that claims every reconciliation it hears and never answers. Osric is cut off for a
// minute while both officers mark the ledger, so the two diverge and must reconcile.
Breaches silent_claimer(const fs::path& scratch, const std::string& name) {
  World w(peer_world(scratch, name, true));
  w.host.network().register_prefix(w.attacker->id(), w.sync_prefix());
  // The attacker has no ledger on the prefix, so its Lua state hears the frames: the case reads
  // them there, reassembles them and claims every session it hears opened.
  w.attacker->run_script(
      "Heard = {} local f = CreateFrame('Frame') f:RegisterEvent('CHAT_MSG_ADDON') "
      "f:SetScript('OnEvent', function(_, _, prefix, text, _, sender) Heard[#Heard + 1] = { "
      "sender, text } end)");
  Reassembler reassembler;
  auto claim_everything = [&] {
    Client::Evaluation heard = w.attacker->evaluate("local h = Heard Heard = {} return h");
    if (!heard.ok || heard.values.empty() || !heard.values[0].is_table()) return;
    for (const auto& [index, frame] : heard.values[0].as_table()) {
      auto message =
          reassembler.receive(frame.find(1)->as_string(), frame.find(2)->as_string(), w.host.now());
      if (!message || !message->ok()) continue;
      if (const auto* ranges = std::get_if<Ranges>(&message->value())) {
        send_all(w, FrameEncoder(246).encode(Claim{ranges->session, 0}));
      }
    }
  };
  w.host.network().set_online(w.osric.id(), false);
  w.run(60, claim_everything);
  w.host.network().set_online(w.osric.id(), true);
  w.run(90, claim_everything);
  Breaches breaches;
  landed(breaches,
         total(w, [](LedgerBinding&, SyncLink& l) { return l.endpoint().counters().bypassed; }) > 0,
         "no honest client had to bypass the claimer");
  return finish(w, breaches);
}

// Reconciliations opened one after another by a peer that claims to hold nothing.
Breaches session_flood(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  w.run(10);
  std::uint32_t session = 1;
  w.run(30, [&] {
    Ranges open{session++, {}, {}};
    open.items.push_back({std::nullopt, RangeFingerprint{0, 0}});
    send_all(w, FrameEncoder(246).encode(open));
  });
  Breaches breaches;
  landed(breaches,
         total(w, [](LedgerBinding&,
                     SyncLink& l) { return l.endpoint().counters().sessions_answered; }) > 0,
         "no honest client answered a session");
  return finish(w, breaches);
}

// A peer pushes a large, fully authorized history (an officer's entries), twice over: the
// honest clients take each entry once and stay responsive while they commit them.
Breaches huge_legitimate_replay(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  w.run(5);
  const std::uint32_t count = kSanitized ? 5000 : 20000;
  std::vector<Entry> history;
  for (std::uint32_t i = 0; i < count; ++i)
    history.push_back(mark(1600000000 + i, w.olwen.options().player_id, i));
  std::vector<std::string> frames = push_frames(history);
  send_all(w, frames);
  w.run(10);
  send_all(w, frames);
  w.run(10);
  Breaches breaches = w.verify(kBulk);
  for (Client* c : {&w.olwen, &w.osric, &w.victim, &w.bystander}) {
    const Ledger& l = c->ledgers().find("Anchor")->ledger();
    std::size_t replayed =
        l.lower_bound({1600000000 + count, 0, 0, 0}) - l.lower_bound({1600000000, 0, 0, 0});
    if (replayed != count) {
      breaches.push_back(c->name() + " holds " + std::to_string(replayed) + " of the " +
                         std::to_string(count) + " replayed entries");
    }
  }
  return breaches;
}

// The same volume, none of it authorized.
Breaches huge_unauthorized_replay(const fs::path& scratch) {
  World w(peer_world(scratch, "Mallory", false));
  w.run(5);
  const std::uint32_t count = kSanitized ? 5000 : 20000;
  std::vector<Entry> history;
  for (std::uint32_t i = 0; i < count; ++i)
    history.push_back(mark(1600000000 + i, w.attacker->options().player_id, i));
  send_all(w, push_frames(history));
  w.run(20);
  Breaches breaches;
  landed(breaches,
         total(w, [](LedgerBinding& b, SyncLink&) { return b.remote_stats().refused; }) >= count,
         "fewer entries refused than sent");
  return finish(w, breaches, kBulk);
}

}  // namespace

std::vector<Case> peer_cases() {
  return {
      {"peer", "forged creators pushed", kPeerTimeout, forged_creators},
      {"peer", "forged creators in bulk", kPeerTimeout, forged_creators_in_bulk},
      {"peer", "advert flood", kPeerTimeout, advert_flood},
      {"peer", "garbage frames", kPeerTimeout, garbage_frames},
      {"peer", "truncated frames", kPeerTimeout, truncated_frames},
      {"peer", "oversized frames", kPeerTimeout, oversized_frames},
      {"peer", "chunk flood past the reassembly bounds", kPeerTimeout, chunk_flood},
      {"peer", "silent claimer", kPeerTimeout,
       [](const fs::path& s) { return silent_claimer(s, "Mallory"); }},
      // Crossed claims go to the lower name: this claimer's sorts first.
      {"peer", "fake priority (a silent claimer that always wins)", kPeerTimeout,
       [](const fs::path& s) { return silent_claimer(s, "Aaron"); }},
      {"peer", "session flood", kPeerTimeout, session_flood},
      {"peer", "replay of a huge legitimate ledger", kPeerTimeout, huge_legitimate_replay},
      {"peer", "replay of a huge unauthorized ledger", kPeerTimeout, huge_unauthorized_replay},
  };
}

}  // namespace hostile
