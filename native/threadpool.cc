// The thread pool (see threadpool.h). Wake-up protocol, the same in both directions:
//   waker:   publish (generation / pending, seq_cst), then if the sleeper's flag is set, lock its mutex
//            and notify;
//   sleeper: spin on the value for a while; then lock the mutex, set the flag (seq_cst), re-check the
//            value, and wait. Either the waker sees the flag, or the sleeper sees the new value.
#include "threadpool.h"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define RNNKIT_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define RNNKIT_PAUSE() __asm__ __volatile__("yield")
#else
#define RNNKIT_PAUSE() ((void)0)
#endif

namespace rnnkit {
namespace {

// How long an idle thread polls before it blocks.
constexpr auto kSpin = std::chrono::microseconds(100);

// Polls `done()` for up to kSpin; returns true if it became true.
template <class Done>
bool spin_until(Done done) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (done()) return true;
      RNNKIT_PAUSE();
    }
    if (std::chrono::steady_clock::now() - start > kSpin) return false;
  }
}

}  // namespace

ThreadPool::~ThreadPool() {
  std::lock_guard<std::mutex> lock(workers_mutex_);
  stop_.store(true);
  for (auto& w : workers_) {
    std::lock_guard<std::mutex> wl(w->mutex);
    w->wake.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

bool ThreadPool::ensure_workers(int count) {
  std::lock_guard<std::mutex> run(run_mutex_);  // never grow while a job runs
  std::lock_guard<std::mutex> lock(workers_mutex_);
  while (static_cast<int>(workers_.size()) < count) {
    auto w = std::make_unique<Worker>();
    const int part = static_cast<int>(workers_.size()) + 1;
    try {
      w->thread = std::thread(&ThreadPool::worker_main, this, w.get(), part);
    } catch (...) {
      return false;
    }
    workers_.push_back(std::move(w));
  }
  return true;
}

int ThreadPool::workers() const {
  std::lock_guard<std::mutex> lock(workers_mutex_);
  return static_cast<int>(workers_.size());
}

void ThreadPool::finish_part() {
  if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
    std::lock_guard<std::mutex> lock(done_mutex_);
    done_.notify_one();
  }
}

void ThreadPool::worker_main(Worker* self, int part) {
  uint64_t seen = 0;
  for (;;) {
    if (!spin_until([&] { return self->generation.load(std::memory_order_acquire) != seen || stop_.load(); })) {
      std::unique_lock<std::mutex> lock(self->mutex);
      self->sleeping.store(true);
      self->wake.wait(lock, [&] { return self->generation.load() != seen || stop_.load(); });
      self->sleeping.store(false);
    }
    if (stop_.load()) return;
    seen = self->generation.load(std::memory_order_acquire);
    fn_(context_, part);
    finish_part();
  }
}

void ThreadPool::run(int parts, PartFn fn, void* context) {
  if (parts <= 1) {
    fn(context, 0);
    return;
  }
  std::lock_guard<std::mutex> run(run_mutex_);
  fn_ = fn;
  context_ = context;
  pending_.store(parts);
  for (int p = 1; p < parts; p++) {
    Worker& w = *workers_[static_cast<size_t>(p - 1)];
    w.generation.fetch_add(1);  // seq_cst: publishes fn_, context_ and pending_
    if (w.sleeping.load()) {
      std::lock_guard<std::mutex> lock(w.mutex);
      w.wake.notify_one();
    }
  }
  fn(context, 0);
  finish_part();
  if (!spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lock(done_mutex_);
    caller_sleeping_.store(true);
    done_.wait(lock, [&] { return pending_.load() == 0; });
    caller_sleeping_.store(false);
  }
}

}  // namespace rnnkit
