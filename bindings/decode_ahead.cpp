// DecodeAhead: a ring of decoded batches filled by one decode thread per process.
#include "bindings/decode_ahead.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <thread>

namespace tally {

DecodedBatch::DecodedBatch(std::size_t entry_capacity_, std::size_t value_capacity_)
    : entry_capacity(entry_capacity_),
      value_capacity(value_capacity_),
      records(std::make_unique_for_overwrite<ReplayRecord[]>(entry_capacity_)),
      values(std::make_unique_for_overwrite<double[]>(value_capacity_)) {}

// The thread that decodes for every DecodeAhead of the process, one batch at a time, in turn.
// One thread is enough: replay runs on the host's thread, one ledger step at a time.
class DecodeThread {
 public:
  static DecodeThread& instance() {
    static DecodeThread thread;
    return thread;
  }

  // `job` has work: queue it (or, when it is being served, have it served again).
  void schedule(DecodeAhead* job) {
    std::lock_guard lock(mutex_);
    if (current_ == job) {
      again_ = true;
      return;
    }
    if (std::find(queue_.begin(), queue_.end(), job) == queue_.end()) queue_.push_back(job);
    wake_.notify_one();
  }

  // Returns once the thread neither serves nor will serve `job` (until it is scheduled again).
  void forget(DecodeAhead* job) {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return current_ != job; });
    // After the wait: serving it may have queued it again.
    queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
  }

 private:
  DecodeThread() : thread_([this] { run(); }) {}
  ~DecodeThread() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return quit_ || !queue_.empty(); });
      if (quit_) return;
      DecodeAhead* job = queue_.front();
      queue_.pop_front();
      current_ = job;
      again_ = false;
      lock.unlock();
      bool more = job->decode_one();
      lock.lock();
      current_ = nullptr;
      if (more || again_) queue_.push_back(job);
      idle_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;  // work queued, or quitting
  std::condition_variable idle_;  // a job was served
  std::deque<DecodeAhead*> queue_;
  DecodeAhead* current_ = nullptr;
  bool again_ = false;  // the job being served was scheduled meanwhile
  bool quit_ = false;
  std::thread thread_;  // last: starts once the fields above exist
};

bool DecodeAheadGauge::worth_it() {
  if (own_ == 0 || wait_ < kWorthIt * own_) {
    if (wait_ > 0) probe_every_ = kProbeEvery;  // measured and worth it
    return true;
  }
  if (++refused_ < probe_every_) return false;
  // Try again; if that does not pay either, wait twice as long before the next try.
  refused_ = 0;
  probe_every_ = std::min(2 * probe_every_, kMaxProbeEvery);
  wait_ = 0;
  return true;
}

DecodeAhead::DecodeAhead(Decode decode, std::size_t batch_entries, std::size_t batch_values)
    : decode_(std::move(decode)), batch_entries_(batch_entries) {
  for (Slot& slot : slots_) slot.batch = std::make_unique<DecodedBatch>(batch_entries, batch_values);
}

DecodeAhead::~DecodeAhead() { stop([](DecodedBatch&) {}); }

void DecodeAhead::start(std::size_t start, std::size_t end, const std::function<void(DecodedBatch&)>& dropped) {
  stop(dropped);
  {
    std::lock_guard lock(mutex_);
    active_ = start < end;
    next_ = start;
    end_ = end;
    if (!has_work()) return;
  }
  DecodeThread::instance().schedule(this);
}

void DecodeAhead::extend(std::size_t end) {
  {
    std::lock_guard lock(mutex_);
    end_ = std::max(end_, end);
    if (!has_work()) return;
  }
  DecodeThread::instance().schedule(this);
}

bool DecodeAhead::running() const {
  std::lock_guard lock(mutex_);
  return active_;
}

bool DecodeAhead::has_free_slot() const {
  return std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == SlotState::Free; });
}

bool DecodeAhead::has_work() const { return active_ && !decoding_ && next_ < end_ && has_free_slot(); }

DecodeAhead::Slot* DecodeAhead::ready_at(std::size_t position) {
  for (Slot& slot : slots_) {
    if (slot.state == SlotState::Ready && slot.batch->start == position) return &slot;
  }
  return nullptr;
}

DecodeAhead::Slot* DecodeAhead::claim(std::size_t& start, std::size_t& end) {
  Slot* slot = &*std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == SlotState::Free; });
  slot->state = SlotState::Filling;
  start = next_;
  end = std::min(end_, next_ + batch_entries_);
  decoding_ = true;
  return slot;
}

bool DecodeAhead::finish(Slot* slot, std::size_t start, bool decoded, SlotState state) {
  decoding_ = false;
  if (decoded) {
    slot->state = state;
    next_ = start + slot->batch->count;
  } else {
    slot->state = SlotState::Free;
    active_ = false;
  }
  progress_.fetch_add(1, std::memory_order_release);
  changed_.notify_all();
  return has_work();
}

namespace {

bool try_decode(const DecodeAhead::Decode& decode, std::size_t start, std::size_t end, DecodedBatch& out) {
  try {
    decode(start, end, out);
    return true;
  } catch (...) {
    // The replaying thread decodes this position again on its own and meets the error there.
    return false;
  }
}

}  // namespace

bool DecodeAhead::decode_one() {
  Slot* slot = nullptr;
  std::size_t start = 0, end = 0;
  {
    std::lock_guard lock(mutex_);
    if (!has_work()) return false;
    slot = claim(start, end);
  }
  bool decoded = try_decode(decode_, start, end, *slot->batch);
  slot->batch->on_decode_thread = true;
  std::lock_guard lock(mutex_);
  return finish(slot, start, decoded, SlotState::Ready);
}

DecodedBatch* DecodeAhead::take(std::size_t position) {
  auto since = [start = std::chrono::steady_clock::now()] {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  };
  std::unique_lock lock(mutex_);
  for (;;) {
    if (Slot* slot = ready_at(position)) {
      slot->state = SlotState::Taken;
      gauge_.waited(since(), slot->batch->count);
      return slot->batch.get();
    }
    if (!active_ || next_ != position || next_ >= end_) return nullptr;
    if (!decoding_) {
      if (!has_free_slot()) return nullptr;
      // The decode thread has not started this batch (it may not have woken up yet, or have
      // no core to run on): decoding it here costs no more than waiting for it.
      std::size_t start = 0, end = 0;
      Slot* slot = claim(start, end);
      lock.unlock();
      bool decoded = try_decode(decode_, start, end, *slot->batch);
      slot->batch->on_decode_thread = false;
      if (decoded) gauge_.decoded_here(since(), slot->batch->count);
      lock.lock();
      bool more = finish(slot, start, decoded, SlotState::Taken);
      lock.unlock();
      if (more) DecodeThread::instance().schedule(this);
      return decoded ? slot->batch.get() : nullptr;
    }
    // The decode thread is on it: yield (so that it runs even when both threads share a core)
    // for up to kSpin, then sleep until it reports progress. A batch takes ~50 us; sleeping
    // instead of yielding made the decode thread itself 3 times slower on a 2-vCPU VM (the
    // idle vCPU halts), so the wait sleeps only when the decode thread seems to have no core.
    std::uint64_t seen = progress_.load(std::memory_order_acquire);
    lock.unlock();
    auto deadline = std::chrono::steady_clock::now() + kSpin;
    bool moved = false;
    while (!moved && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
      moved = progress_.load(std::memory_order_acquire) != seen;
    }
    lock.lock();
    if (!moved) changed_.wait(lock, [&] { return progress_.load(std::memory_order_relaxed) != seen; });
  }
}

void DecodeAhead::release(DecodedBatch* batch) {
  {
    std::lock_guard lock(mutex_);
    for (Slot& slot : slots_) {
      if (slot.batch.get() == batch) slot.state = SlotState::Free;
    }
    if (!has_work()) return;
  }
  DecodeThread::instance().schedule(this);
}

void DecodeAhead::stop(const std::function<void(DecodedBatch&)>& dropped) {
  {
    std::lock_guard lock(mutex_);
    active_ = false;
  }
  DecodeThread::instance().forget(this);
  std::lock_guard lock(mutex_);
  std::vector<Slot*> ready;
  for (Slot& slot : slots_) {
    if (slot.state == SlotState::Ready) ready.push_back(&slot);
  }
  std::sort(ready.begin(), ready.end(), [](const Slot* a, const Slot* b) { return a->batch->start < b->batch->start; });
  for (Slot* slot : ready) {
    dropped(*slot->batch);
    slot->state = SlotState::Free;
  }
}

}  // namespace tally
