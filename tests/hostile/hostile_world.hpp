// The world every hostile case runs in, and the checks that nothing got through: a guild of two
// officers and two members, all running Anchor (a well-behaved addon with a synced ledger only
// officers may write); the member "Victim" also loads the case's hostile addons; an optional
// attacker client runs no addons and talks to the others through the host's network.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bindings/host.hpp"

namespace hostile {

// Sanitized builds run several times slower and keep freed memory in quarantine: cases scale
// their sizes and allowances with these.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TALLY_HOSTILE_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(TALLY_HOSTILE_SANITIZED)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
inline constexpr double kSlowdown = kSanitized ? 4 : 1;

inline const std::filesystem::path kHostileAddons =
    std::filesystem::path(TALLY_TEST_DATA_DIR) / "addons_hostile";

inline constexpr double kFps = 10;
// Seconds a call into the victim's addons may run: short, as code stopped on every frame costs
// this each time, but long enough that a busy machine does not stop well-behaved code.
inline constexpr double kVictimTimeLimit = kSanitized ? 0.25 : 0.1;
// A frame longer than this counts as slow (a kill of the victim's code takes about the limit).
inline constexpr double kSlowFrame = kVictimTimeLimit;

struct WorldOptions {
  std::filesystem::path scratch;  // SavedVariables go here (the case's own folder)
  std::filesystem::path addons_dir = kHostileAddons;
  std::vector<std::string> victim_addons;  // loaded into the victim after Anchor
  std::size_t victim_memory = 64u << 20;
  double victim_time_limit = kVictimTimeLimit;
  std::string attacker;         // a guild member running no addons; empty: none
  tally::NetworkLimits limits;  // raised for floods the game's throttle would slow
  // Writes files (SavedVariables) into the scratch folder before anyone logs in.
  std::function<void(const std::filesystem::path& saved)> prepare;
};

// What a case allows the world to look like afterwards.
struct Expect {
  bool victim_keeps_working =
      true;              // Anchor keeps ticking in the victim (false: its heap stays full)
  double memory_mb = 0;  // peak RSS growth allowed on top of the default allowance
  int slow_frames = 3;   // frames allowed over kSlowFrame
  // Kills of the victim's code ("script ran too long" in its log; one kill may log two lines):
  // code that ran too long once must not be run again and again.
  int kills = 3;
};

class World {
 public:
  explicit World(WorldOptions options);

  tally::Host host;
  tally::Client& olwen;      // officer
  tally::Client& osric;      // officer
  tally::Client& victim;     // member; loads the hostile addons
  tally::Client& bystander;  // member
  tally::Client* attacker = nullptr;

  // Runs frames of 1/kFps seconds for `seconds` of game time, timing each; `each_frame` runs
  // before every frame (an attacker's sends, say).
  void run(double seconds, const std::function<void()>& each_frame = {});
  // The victim types a slash command.
  void slash(const std::string& command) { victim.run_slash_command(command); }
  // The prefix Anchor's ledger syncs on ("T:Anchor").
  std::string sync_prefix() const;
  tally::AddonCatalog& catalog() { return catalog_; }
  std::filesystem::path saved_variables(const tally::Client& client,
                                        const std::string& addon) const;
  // Player ids of the officers: the only creators allowed in Anchor's ledger.
  bool is_officer(std::uint32_t creator) const;

  // Everything the case must not have broken; logs everyone out at the end. One line per breach.
  std::vector<std::string> verify(const Expect& expect);

 private:
  std::vector<tally::Client*> honest(bool with_victim) const;
  void check_alive(std::vector<std::string>& breaches);
  void check_anchor_ticks(const Expect& expect, std::vector<std::string>& breaches);
  void check_ledgers(const Expect& expect, std::vector<std::string>& breaches);
  void check_sandbox(std::vector<std::string>& breaches);
  void check_saved_variables(const Expect& expect, std::vector<std::string>& breaches);

  WorldOptions options_;
  tally::AddonCatalog catalog_;
  double baseline_rss_mb_ = 0;
  int slow_frames_ = 0;
  double slowest_frame_ = 0;
};

// The process's resident memory now and its peak since the last reset, in MiB.
double rss_mb();
double peak_rss_mb();
void reset_peak_rss();

}  // namespace hostile
