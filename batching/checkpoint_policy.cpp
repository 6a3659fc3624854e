// CheckpointPolicy: triggers, greedy geometric thinning, lookup and invalidation.
#include "batching/checkpoint_policy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tally {

void validate(const CheckpointConfig& config) {
  if (!std::isfinite(config.every_ms) || config.every_ms < 0) {
    throw std::invalid_argument("every_ms must be a finite number >= 0, got " +
                                std::to_string(config.every_ms));
  }
  if (config.max_checkpoints < 1) {
    throw std::invalid_argument("max_checkpoints must be at least 1, got 0");
  }
}

CheckpointPolicy::CheckpointPolicy(CheckpointConfig config) : config_(config) {
  validate(config_);
}

std::vector<std::size_t> CheckpointPolicy::set_config(CheckpointConfig config) {
  validate(config);
  config_ = config;
  return thin();
}

bool CheckpointPolicy::should_checkpoint(std::size_t applied, double replay_ms_since_last) const {
  const std::size_t last = kept_.empty() ? 0 : kept_.back();
  if (applied <= last) return false;
  return (config_.every_events > 0 && applied - last >= config_.every_events) ||
         (config_.every_ms > 0 && replay_ms_since_last >= config_.every_ms);
}

std::vector<std::size_t> CheckpointPolicy::add(std::size_t position) {
  if (!kept_.empty() && position <= kept_.back()) {
    throw std::invalid_argument("CheckpointPolicy::add: position " + std::to_string(position) +
                                " is not after the newest checkpoint " +
                                std::to_string(kept_.back()));
  }
  kept_.push_back(position);
  return thin();
}

std::optional<std::size_t> CheckpointPolicy::nearest_at_or_before(std::size_t position) const {
  const auto after = std::upper_bound(kept_.begin(), kept_.end(), position);
  if (after == kept_.begin()) return std::nullopt;
  return *std::prev(after);
}

std::vector<std::size_t> CheckpointPolicy::invalidate_after(std::size_t position) {
  const auto first = std::upper_bound(kept_.begin(), kept_.end(), position);
  std::vector<std::size_t> dropped(first, kept_.end());
  kept_.erase(first, kept_.end());
  return dropped;
}

std::vector<std::size_t> CheckpointPolicy::thin() {
  std::vector<std::size_t> dropped;
  while (kept_.size() > config_.max_checkpoints) {
    // Dropping kept_[i] merges the gaps on either side into one from `before` to kept_[i + 1].
    // An insert just below kept_[i + 1] would then replay that whole gap needlessly; relative
    // to the replay it needs anyway (up to the head), the waste is gap / (head - kept_[i + 1]).
    // Ranking by gap / (head - before) orders the candidates the same way (x / (x + d) grows
    // with x / d) without dividing by zero next to the head.
    const double head = double(kept_.back());
    std::size_t victim = 0;
    double best = 2;  // scores are at most 1
    for (std::size_t i = 0; i + 1 < kept_.size(); ++i) {
      const double before = i == 0 ? 0.0 : double(kept_[i - 1]);
      const double score = (double(kept_[i + 1]) - before) / (head - before);
      if (score < best) {
        best = score;
        victim = i;
      }
    }
    dropped.push_back(kept_[victim]);
    kept_.erase(kept_.begin() + static_cast<std::ptrdiff_t>(victim));
  }
  std::sort(dropped.begin(), dropped.end());
  return dropped;
}

}  // namespace tally
