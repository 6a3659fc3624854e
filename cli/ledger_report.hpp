// Per-ledger replay metrics of every client of a host, as text (tally run --metrics) and JSON.
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "bindings/host.hpp"

namespace tally::cli {

// { "<client>": { "<ledger>": <LedgerBinding::metrics_json> } } for the ledgers open now.
nlohmann::json ledger_metrics(Host& host);

// A few lines per ledger: size and lag, replay speed, step and frame times, rewinds,
// checkpoints, the remote queue.
void print_ledger_metrics(const nlohmann::json& metrics, std::FILE* out);

}  // namespace tally::cli
