// tensorwire/worker.h: threads that run blocking native work off the JS thread.
//
// Why not napi AsyncWorker: it runs on libuv's threadpool (4 threads by default). Blocking
// collectives parked there deadlock once every pool thread waits for a send queued behind them,
// and they also starve fs/dns. Addons instead own their threads:
//  - WorkerThread: one thread, FIFO. For work that must keep its order (collectives, connect).
//  - ElasticPool: grows one thread per concurrently blocked task (up to a cap), idle threads
//    exit after a while. For independent waits (each pending recv/send waits on its own thread,
//    so a waiting recv never holds up a send).
// No N-API calls here: results go back to JS through Completer (jobs.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tensorwire {

using Task = std::function<void()>;

/** One dedicated thread running tasks in FIFO order. */
class WorkerThread {
 public:
  WorkerThread() : thread_([this] { Loop(); }) {}
  ~WorkerThread() { Shutdown(); }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  /** Queue a task. Returns false (task dropped) once Shutdown began. */
  bool Post(Task task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }

  /** Tasks queued or running. */
  size_t Pending() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size() + (busy_ ? 1 : 0);
  }

  /** Stop accepting tasks, run the ones already queued, join. Idempotent. */
  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  /**
   * Like Shutdown, but gives up after `timeout` and detaches the thread (used at process exit when
   * a task may be stuck in a library call). Returns true when the thread was joined.
   */
  bool ShutdownFor(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    bool done = doneCv_.wait_for(lock, timeout, [this] { return exited_; });
    lock.unlock();
    if (!thread_.joinable()) return true;
    if (done) thread_.join(); else thread_.detach();
    return done;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping and drained
      Task task = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      task();  // tasks catch their own exceptions (see Job::Run)
      lock.lock();
      busy_ = false;
    }
    exited_ = true;
    doneCv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable doneCv_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  bool exited_ = false;
  std::thread thread_;  // last: starts after the fields above are initialised
};

/**
 * A pool that starts a new thread whenever every thread is busy (up to `maxThreads`), so that
 * tasks which block independently never wait for each other. Idle threads exit after `idle`.
 */
class ElasticPool {
 public:
  explicit ElasticPool(size_t maxThreads = 1024,
                       std::chrono::milliseconds idle = std::chrono::milliseconds(10000))
      : max_(maxThreads), idle_(idle) {}
  ~ElasticPool() { Shutdown(); }
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;

  /** Queue a task; starts a thread if none is idle. Returns false once Shutdown began. */
  bool Post(Task task) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    ReapRetired();
    queue_.push_back(std::move(task));
    if (idle_count_ >= queue_.size() || live_ >= max_) {
      cv_.notify_one();
    } else {
      ++live_;
      threads_.emplace_back([this] { Loop(); });
    }
    return true;
  }

  /** Stop accepting, let queued tasks run, join every thread. Idempotent. */
  void Shutdown() { ShutdownFor(std::chrono::milliseconds::max()); }

  /** Shutdown with a deadline; threads still busy after it are detached. True if all joined. */
  bool ShutdownFor(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    bool done;
    if (timeout == std::chrono::milliseconds::max()) {
      doneCv_.wait(lock, [this] { return live_ == 0; });
      done = true;
    } else {
      done = doneCv_.wait_for(lock, timeout, [this] { return live_ == 0; });
    }
    std::vector<std::thread> threads = std::move(threads_);
    threads_.clear();
    lock.unlock();
    for (auto& t : threads) {
      if (!t.joinable()) continue;
      if (t.get_id() == std::this_thread::get_id() || !done) t.detach(); else t.join();
    }
    return done;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (queue_.empty()) {
        if (stopping_) break;
        ++idle_count_;
        bool got = cv_.wait_for(lock, idle_, [this] { return stopping_ || !queue_.empty(); });
        --idle_count_;
        if (!got) break;  // idle too long: this thread retires
        continue;
      }
      Task task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
    --live_;
    // A retiring thread is joined by the next Post (or Shutdown), so threads_ stays small.
    retired_.push_back(std::this_thread::get_id());
    doneCv_.notify_all();
  }

  // Join threads that left Loop (they are at most a few instructions from exiting). mu_ held.
  void ReapRetired() {
    for (auto id : retired_) {
      for (auto it = threads_.begin(); it != threads_.end(); ++it) {
        if (it->get_id() == id) {
          it->join();
          threads_.erase(it);
          break;
        }
      }
    }
    retired_.clear();
  }

  const size_t max_;
  const std::chrono::milliseconds idle_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable doneCv_;
  std::deque<Task> queue_;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> retired_;
  size_t live_ = 0;
  size_t idle_count_ = 0;
  bool stopping_ = false;
};

}  // namespace tensorwire
