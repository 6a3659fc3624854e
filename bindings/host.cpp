// The host loop: one clock, many clients, frames in a fixed client order.
#include "bindings/host.hpp"

#include <time.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace tally {

namespace {

// The network's options with the fault plan's delivery policy in place, unless a policy was
// given or the plan has no faults (then the network's own latency stands).
NetworkOptions with_faults(NetworkOptions network, const FaultPlan& plan, const FaultPolicy& faults) {
  if (!network.policy && !(plan == FaultPlan{})) network.policy = faults.policy;
  return network;
}

// CPU time this thread has used, in ms.
double thread_cpu_ms() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

}  // namespace

Host::Host(HostOptions options)
    : options_(std::move(options)),
      faults_(make_delivery_policy(options_.faults, options_.fault_seed)),
      fault_schedule_(options_.faults),
      network_(with_faults(options_.network, options_.faults, faults_)) {}

Host::~Host() = default;

Client& Host::add_client(ClientOptions options) {
  if (options.name.empty()) throw std::invalid_argument("a client needs a name");
  if (find_client(options.name) != nullptr) {
    throw std::invalid_argument("a client named '" + options.name + "' already exists");
  }
  auto id = static_cast<std::uint32_t>(clients_.size() + 1);
  network_.add_client({id, options.name + "-" + options.realm, options.guild, options.raid, options.party, true});
  clients_.push_back(std::make_unique<Client>(*this, id, std::move(options)));
  return *clients_.back();
}

Client* Host::find_client(std::string_view name) const {
  for (const auto& c : clients_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

void Host::load_addons(const AddonCatalog& catalog) {
  for (auto& c : clients_) c->load_addons(catalog);
}

void Host::start() {
  if (started_) return;
  started_ = true;
  for (auto& c : clients_) c->login();
}

void Host::tick(double dt) {
  if (!(dt >= 0) || !std::isfinite(dt)) throw std::invalid_argument("tick: dt must be a finite number >= 0");
  now_ += dt;
  fault_schedule_.apply(network_, now_);
  using Clock = AddonProfiler::Clock;
  std::vector<double> delivery_ms(clients_.size(), 0.0);  // part of each receiver's frame
  std::vector<double> delivery_cpu_ms(clients_.size(), 0.0);
  for (const Delivery& d : network_.collect(now_)) {
    Client& receiver = *clients_[d.receiver - 1];
    if (!receiver.logged_in()) continue;
    const double cpu_started = thread_cpu_ms();
    auto started = Clock::now();
    // A synced ledger's prefix is reserved for it: its frames go to the sync link, not to addons.
    if (SyncLink* sync = receiver.ledgers().sync_for_prefix(d.prefix)) {
      sync->on_frame(d.sender_name, d.text, now_);
      receiver.profiler().record_host_work("sync receive", started, Clock::now());
    } else {
      receiver.fire_event("CHAT_MSG_ADDON", {d.prefix, d.text, d.channel, d.sender_name, d.target});
    }
    std::chrono::duration<double, std::milli> spent = Clock::now() - started;
    delivery_ms[d.receiver - 1] += spent.count();
    delivery_cpu_ms[d.receiver - 1] += thread_cpu_ms() - cpu_started;
  }
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    Client& c = *clients_[i];
    if (!c.logged_in()) continue;
    const double cpu_started = thread_cpu_ms();
    auto started = Clock::now();
    c.tick(now_, dt);
    auto ended = Clock::now();
    c.end_frame(started, ended, delivery_ms[i], thread_cpu_ms() - cpu_started + delivery_cpu_ms[i]);
  }
  if (tick_observer_) tick_observer_(*this);
}

void Host::broadcast_event(std::string_view event, const std::vector<EventArg>& args) {
  for (auto& c : clients_) {
    if (c->logged_in()) c->fire_event(event, args);
  }
}

void Host::shutdown() {
  for (auto& c : clients_) {
    if (c->logged_in()) c->logout();
  }
  started_ = false;
}

std::uint32_t Host::server_time() const {
  return options_.start_server_time + static_cast<std::uint32_t>(std::floor(now_));
}

}  // namespace tally
