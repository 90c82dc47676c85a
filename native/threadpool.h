// A persistent pool of std::thread workers with fixed part assignment: part p of a job always runs on
// worker p (part 0 on the submitting thread), so with a given part count every output element is always
// computed by the same thread, and a thread's slice of the weights stays in its core's caches from one
// call to the next.
//
// Idle workers spin for a short while (a training loop submits the next job within microseconds), then
// block on a condition variable. The destructor stops and joins every worker: a std::thread still
// joinable at exit aborts the process.
#ifndef RNNKIT_THREADPOOL_H
#define RNNKIT_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace rnnkit {

class ThreadPool {
 public:
  using PartFn = void (*)(void* context, int part);

  ThreadPool() = default;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  // Makes sure at least `count` workers exist (never shrinks). Returns false if a thread could not be
  // started (the pool keeps the workers it has).
  bool ensure_workers(int count);
  int workers() const;

  // Runs fn(context, p) for p in [0, parts): p = 0 on the calling thread, p >= 1 on worker p - 1.
  // Needs parts - 1 <= workers(). Jobs submitted from different threads run one after the other.
  void run(int parts, PartFn fn, void* context);

 private:
  struct alignas(64) Worker {
    std::atomic<uint64_t> generation{0};  // bumped by run() to hand this worker a part
    std::atomic<bool> sleeping{false};
    std::mutex mutex;
    std::condition_variable wake;
    std::thread thread;
  };

  void worker_main(Worker* self, int part);
  void finish_part();

  mutable std::mutex workers_mutex_;  // guards workers_ (growth) and stop_
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stop_{false};

  std::mutex run_mutex_;  // one job at a time
  // The current job: written by run() before the generation bump (release), read after it (acquire).
  PartFn fn_ = nullptr;
  void* context_ = nullptr;
  alignas(64) std::atomic<int> pending_{0};  // parts not finished yet
  std::atomic<bool> caller_sleeping_{false};
  std::mutex done_mutex_;
  std::condition_variable done_;
};

}  // namespace rnnkit

#endif  // RNNKIT_THREADPOOL_H
