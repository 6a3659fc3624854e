// The host loop: one clock, many clients, frames in a fixed client order.
#include "bindings/host.hpp"

#include <cmath>
#include <stdexcept>

namespace tally {

Host::Host(HostOptions options) : options_(std::move(options)), network_(options_.network) {}

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
  for (const Delivery& d : network_.collect(now_)) {
    Client& receiver = *clients_[d.receiver - 1];
    if (receiver.logged_in()) {
      receiver.fire_event("CHAT_MSG_ADDON", {d.prefix, d.text, d.channel, d.sender_name, d.target});
    }
  }
  for (auto& c : clients_) {
    if (c->logged_in()) c->tick(now_, dt);
  }
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
