// SyncSimulation: clients, network and links stepped in virtual time.
#include "runtime/sync_simulation.hpp"

#include "runtime/sync_tally.hpp"

namespace tally {

namespace {

NetworkOptions options_with(const FaultPlan& plan, std::uint64_t seed, std::shared_ptr<const FaultCounters>& counters) {
  NetworkOptions options;
  FaultPolicy policy = make_delivery_policy(plan, seed);
  options.policy = policy.policy;
  counters = policy.counters;
  return options;
}

}  // namespace

SyncSimulation::SyncSimulation(const FaultPlan& plan, std::uint64_t seed)
    : network_(options_with(plan, seed, faults_)) {}

SyncSimulation::Member& SyncSimulation::add_adversary(const std::string& name) {
  auto m = std::make_unique<Member>();
  m->name = name + "-Tally";
  m->id = static_cast<std::uint32_t>(members_.size() + 1);
  network_.add_client({m->id, m->name, "Guild", 0, 0, true});
  network_.register_prefix(m->id, kPrefix);
  members_.push_back(std::move(m));
  return *members_.back();
}

SyncSimulation::Member& SyncSimulation::add(const std::string& name, const SyncFactory& factory, std::uint64_t seed) {
  Member& m = add_adversary(name);
  SyncContext context;
  context.ledger = &m.ledger;
  context.self = m.name;
  context.seed = seed;
  context.deliver = [this, member = &m](std::vector<Entry> entries, const std::string& sender) {
    for (const Entry& e : entries) {
      if (accept_ && !accept_(e, sender)) {
        ++member->refused;
        continue;
      }
      try {
        member->ledger.insert(e);
      } catch (const InvalidEntry&) {
        ++member->refused;
      }
    }
  };
  std::unique_ptr<SyncEndpoint> endpoint = factory ? factory(context) : std::make_unique<TallySync>(context);
  m.link = std::make_unique<SyncLink>(std::move(endpoint), kPrefix, m.id, static_cast<std::uint16_t>(seed * 131 + m.id), lanes_);
  for (const std::string& prefix : m.link->prefixes()) network_.register_prefix(m.id, prefix);
  return m;
}

void SyncSimulation::tick() {
  now_ += step_;
  if (schedule_) schedule_->apply(network_, now_);
  for (const Delivery& d : network_.collect(now_)) {
    Member& m = *members_[d.receiver - 1];
    if (m.link) m.link->on_frame(d.sender_name, d.text, now_);
    else if (m.on_delivery) m.on_delivery(d);
  }
  for (auto& m : members_) {
    if (m->link) m->link->pump(network_, now_);
    else if (m->on_tick) m->on_tick(now_);
  }
}

void SyncSimulation::run_for(double seconds) {
  double end = now_ + seconds;
  while (now_ < end) tick();
}

bool SyncSimulation::converged() const {
  const Member* first = nullptr;
  for (const auto& m : members_) {
    if (!m->link) continue;
    if (first == nullptr) first = m.get();
    if (m->ledger.size() != first->ledger.size() || m->ledger.fingerprint().sum != first->ledger.fingerprint().sum) {
      return false;
    }
  }
  return true;
}

bool SyncSimulation::run_until_converged(double limit) {
  double end = now_ + limit;
  while (now_ < end) {
    tick();
    if (converged()) return true;
  }
  return false;
}

}  // namespace tally
