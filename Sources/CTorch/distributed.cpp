// Data-parallel communication: a TCPStore rendezvous and one c10d process group backend (Gloo on
// CPU; NCCL where the shim is built with CTORCH_WITH_NCCL), used through c10d::Backend only.
//
// The Gloo note. The torch wheel ships ProcessGroupGloo.hpp but not the Gloo headers it includes;
// Gloo is compiled into libtorch_cpu.so. Three ways were weighed:
//  - Debian's libgloo-dev: a Gloo from 2022, older than the one inside libtorch 2.13, and a package
//    every build machine would need, for headers whose declarations the shim does not use.
//  - A factory in libtorch that builds a Gloo backend by name: libtorch_cpu exports none (the
//    by-name registry is Python's; the TorchScript classes registered for c10d have no
//    constructor), so the class has to be constructed here, which needs its exact size.
//  - libtorch's own ProcessGroupGloo.hpp with the few Gloo names it mentions declared by hand
//    (gloo-declarations/): chosen. The class definition, and so its size and base, come from the
//    header of the very libtorch the shim is compiled against; Gloo types appear in it only behind
//    shared_ptr/unique_ptr and in inline members the shim never calls, and the hand declarations
//    give no Gloo type a layout. A later header that needs more of Gloo fails to compile rather
//    than misbehaving. The shim itself only calls libtorch's exported constructor, device
//    factories and the virtual collectives of c10d::Backend.
#include "internal.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace ctorch {
// Defined in distributed_nccl.cpp (a stub that throws where the shim is built without NCCL).
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store> &store, int rank,
                                                    int size, std::chrono::milliseconds timeout);
}  // namespace ctorch

using namespace ctorch;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kHeartbeatInterval{500};
// How long a failing rank watches the others' heartbeats before naming the silent ones.
constexpr milliseconds kHeartbeatWatch{2500};

c10::intrusive_ptr<c10d::Store> connect_store(const std::string &host, int port, bool server,
                                              milliseconds timeout) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = server;
  o.waitWorkers = false;  // the backend's own rendezvous waits for every rank
  o.timeout = timeout;
  o.multiTenant = true;
  return c10::make_intrusive<c10d::TCPStore>(host, o);
}

std::string text(const std::vector<uint8_t> &v) { return std::string(v.begin(), v.end()); }
std::vector<uint8_t> bytes(const std::string &s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::string message_of(const std::exception &e) {
  if (auto *c = dynamic_cast<const c10::Error *>(&e)) return c->what_without_backtrace();
  return e.what();
}


// A token no other process draws: 128 random bits, with the process id and the clock mixed in.
std::string fresh_token() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(), static_cast<unsigned>(getpid()),
                     static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())};
  std::mt19937_64 draw(seed);
  std::ostringstream out;
  out << std::hex << draw() << "-" << draw();
  return out.str();
}

// The ranks of a group that meets at a store hosted by someone else agree on a generation that no
// earlier group at that store used, and the group's keys start with it. Such a store outlives the
// groups (torchrun's agent keeps one across restarts of its workers), so it may still hold the
// keys of a group whose processes are dead; and the launchers' restart counts cannot tell the
// generations apart, since each agent counts only its own workers' failures. Rank 0 draws the
// generation from a counter in the store (each draw is a new number). Every other rank posts a
// fresh token and waits for the answer under a key named by it, and then confirms under a key
// named by the generation: neither side ever reads a key an earlier group could have written.
std::string agree_on_generation(c10d::Store &store, int rank, int world, milliseconds timeout) {
  const std::string root = "detr-generation/";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const milliseconds poll{10};
  auto late = [&] { return std::chrono::steady_clock::now() > deadline; };
  if (rank == 0) {
    const std::string generation = std::to_string(store.add(root + "counter", 1));
    std::vector<std::string> answered(world);
    std::vector<bool> joined(world, false);
    int waiting = world - 1;
    while (waiting > 0) {
      for (int r = 1; r < world; r++) {
        if (joined[r]) continue;
        const std::string hello = root + "hello/" + std::to_string(r);
        if (store.check({hello})) {
          // Possibly a dead process's token: answering it does no harm, no one waits for it.
          std::string token = text(store.get(hello));
          if (token != answered[r]) {
            store.set(root + "answer/" + token, bytes(generation));
            answered[r] = token;
          }
        }
        if (store.check({root + generation + "/joined/" + std::to_string(r)})) {
          joined[r] = true;
          waiting--;
        }
      }
      if (waiting == 0) break;
      if (late()) {
        std::ostringstream missing;
        for (int r = 1; r < world; r++) if (!joined[r]) missing << (missing.tellp() > 0 ? ", " : "") << r;
        throw std::runtime_error("ranks " + missing.str() + " did not arrive");
      }
      std::this_thread::sleep_for(poll);
    }
    return generation;
  }
  const std::string token = fresh_token();
  store.set(root + "hello/" + std::to_string(rank), bytes(token));
  const std::string answer = root + "answer/" + token;
  while (!store.check({answer})) {
    if (late()) throw std::runtime_error("rank 0 did not arrive");
    std::this_thread::sleep_for(poll);
  }
  const std::string generation = text(store.get(answer));
  store.set(root + generation + "/joined/" + std::to_string(rank), bytes("1"));
  return generation;
}

}  // namespace

// One rank's membership: the store (keys under "detr/" are ours, "backend/" the backend's), the
// backend, and a heartbeat thread that lets a failing rank tell which others stopped.
struct ct_dist_s {
  std::string host;
  int port = 0;
  int rank = 0;
  int world = 1;
  bool store_on_rank0 = false;
  milliseconds timeout{0};
  at::Device device{at::kCPU};
  std::string prefix;                     // of every key this group uses in the store
  c10::intrusive_ptr<c10d::Store> store;  // prefixed prefix + "detr/"
  c10::intrusive_ptr<c10d::Backend> backend;
  std::atomic<bool> failed{false};

  std::thread heartbeat;
  std::mutex heartbeat_mutex;
  std::condition_variable heartbeat_cv;
  bool heartbeat_stop = false;

  void start_heartbeat() {
    heartbeat = std::thread([this] {
      try {
        // Its own connection: a store client is not shared between threads here.
        auto s = c10::make_intrusive<c10d::PrefixStore>(prefix + "detr/", connect_store(host, port, false, timeout));
        std::unique_lock<std::mutex> lock(heartbeat_mutex);
        for (int64_t beat = 1; !heartbeat_stop; beat++) {
          lock.unlock();
          s->set("heartbeat/" + std::to_string(rank), bytes(std::to_string(beat)));
          lock.lock();
          heartbeat_cv.wait_for(lock, kHeartbeatInterval, [this] { return heartbeat_stop; });
        }
      } catch (...) {
        // The store is gone (its host stopped): a failing collective reports that itself.
      }
    });
  }

  void stop_heartbeat(bool wait) {
    {
      std::lock_guard<std::mutex> lock(heartbeat_mutex);
      heartbeat_stop = true;
    }
    heartbeat_cv.notify_all();
    if (heartbeat.joinable()) {
      if (wait) heartbeat.join();
      else heartbeat.detach();
    }
  }

  // Which other ranks stopped: those whose heartbeat did not advance while this rank watched, with
  // the failure they posted, if any. Bounded by a few seconds.
  std::string diagnose() {
    std::ostringstream out;
    try {
      auto s = c10::make_intrusive<c10d::PrefixStore>(
          prefix + "detr/", connect_store(host, port, false, std::min(timeout, milliseconds(5000))));
      auto read = [&](int r) -> std::string {
        std::string key = "heartbeat/" + std::to_string(r);
        return s->check({key}) ? text(s->get(key)) : std::string();
      };
      std::vector<std::string> before(world), after(world);
      for (int r = 0; r < world; r++) if (r != rank) before[r] = read(r);
      std::this_thread::sleep_for(kHeartbeatWatch);
      std::vector<int> silent;
      for (int r = 0; r < world; r++) {
        if (r == rank) continue;
        after[r] = read(r);
        if (after[r].empty() || after[r] == before[r]) silent.push_back(r);
      }
      if (silent.empty()) {
        out << "every other rank is still running (a rank may have failed on its own: see its output)";
      }
      for (size_t i = 0; i < silent.size(); i++) {
        int r = silent[i];
        std::string key = "failure/" + std::to_string(r);
        out << (i ? "; " : "") << "rank " << r;
        if (s->check({key})) out << " failed: " << text(s->get(key));
        else out << " stopped responding (no heartbeat for " << kHeartbeatWatch.count() / 1000.0
                 << " s: killed, crashed or hung)";
      }
    } catch (const std::exception &e) {
      out << "the rendezvous store at " << host << ":" << port << " is unreachable";
      if (store_on_rank0) out << ", so rank 0, which hosts it, stopped";
      out << " (" << message_of(e) << ")";
    }
    return out.str();
  }

  // Runs one collective; a failure marks the group failed and names the ranks that stopped.
  template <class F>
  void collective(const char *what, F &&body) {
    if (failed.load()) {
      throw std::runtime_error(std::string(what) + " on rank " + std::to_string(rank) + " of " +
                               std::to_string(world) + ": the process group failed earlier");
    }
    try {
      body();
    } catch (const std::exception &e) {
      failed = true;
      throw std::runtime_error(std::string(what) + " failed on rank " + std::to_string(rank) + " of " +
                               std::to_string(world) + ": " + diagnose() + " [" + message_of(e) + "]");
    }
  }

  void all_reduce(at::Tensor &t, c10d::ReduceOp op) {
    collective("all-reduce", [&] {
      std::vector<at::Tensor> ts{t};
      c10d::AllreduceOptions o;
      o.reduceOp = op;
      o.timeout = timeout;
      backend->allreduce(ts, o)->wait();
    });
  }
};

struct ct_store_server_s { c10::intrusive_ptr<c10d::TCPStore> store; };

namespace {

c10d::ReduceOp reduce_op(int32_t op) {
  switch (op) {
    case CT_REDUCE_SUM: return c10d::ReduceOp(c10d::ReduceOp::SUM);
    case CT_REDUCE_MAX: return c10d::ReduceOp(c10d::ReduceOp::MAX);
    case CT_REDUCE_MIN: return c10d::ReduceOp(c10d::ReduceOp::MIN);
  }
  throw std::invalid_argument("unknown reduce op " + std::to_string(op));
}

// Σ over processes, differentiable: every process's output is the same sum, so the gradient of
// the processes' summed objectives with respect to one process's input is the sum of the
// gradients arriving at every process's output (an all-reduce in the backward pass too).
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, int64_t dist) {
    ctx->saved_data["dist"] = dist;
    at::Tensor y = x.detach().clone(at::MemoryFormat::Contiguous);
    reinterpret_cast<ct_dist>(dist)->all_reduce(y, c10d::ReduceOp(c10d::ReduceOp::SUM));
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto *d = reinterpret_cast<ct_dist>(ctx->saved_data["dist"].toInt());
    at::Tensor g = grads[0].clone(at::MemoryFormat::Contiguous);
    d->all_reduce(g, c10d::ReduceOp(c10d::ReduceOp::SUM));
    return {g, at::Tensor()};
  }
};

}  // namespace

extern "C" {

ct_store_server ct_store_server_new(int32_t port, int64_t timeout_ms) {
  CT_TRY(nullptr, {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(port);
    o.isServer = true;
    o.waitWorkers = false;
    o.timeout = milliseconds(timeout_ms);
    o.multiTenant = true;
    return new ct_store_server_s{c10::make_intrusive<c10d::TCPStore>("0.0.0.0", o)};
  })
}

int32_t ct_store_server_port(ct_store_server s) { return s ? static_cast<int32_t>(s->store->getPort()) : 0; }

void ct_store_server_free(ct_store_server s) { delete s; }

ct_dist ct_dist_new(int32_t backend, const char *host, int32_t port, int32_t rank, int32_t world, bool host_store,
                    const char *interface, const char *bind_host, int32_t device_index, int64_t timeout_ms) {
  CT_TRY(nullptr, {
    if (world < 1 || rank < 0 || rank >= world) {
      throw std::invalid_argument("rank " + std::to_string(rank) + " is outside a world of size " +
                                  std::to_string(world));
    }
    auto d = std::make_unique<ct_dist_s>();
    d->host = host ? host : "127.0.0.1";
    d->port = port;
    d->rank = rank;
    d->world = world;
    d->store_on_rank0 = host_store;
    d->timeout = milliseconds(timeout_ms);
    auto base = connect_store(d->host, port, host_store && rank == 0, d->timeout);
    try {
      // A store rank 0 hosts is new; another one may hold an earlier group's keys.
      if (!host_store) d->prefix = "generation-" + agree_on_generation(*base, rank, world, d->timeout) + "/";
    } catch (const std::exception &e) {
      throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(world) +
                               " could not join the process group at " + d->host + ":" + std::to_string(port) +
                               " within " + std::to_string(timeout_ms / 1000) + " s: " + message_of(e));
    }
    d->store = c10::make_intrusive<c10d::PrefixStore>(d->prefix + "detr/", base);
    auto backend_store = c10::make_intrusive<c10d::PrefixStore>(d->prefix + "backend/", base);
    d->start_heartbeat();
    try {
      if (backend == CT_DIST_GLOO) {
        auto o = c10d::ProcessGroupGloo::Options::create(d->timeout);
        if (interface && *interface) {
          o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
        } else if (bind_host && *bind_host) {
          o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(bind_host));
        } else {
          o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        }
        o->threads = 2;
        d->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(backend_store, rank, world, o);
      } else if (backend == CT_DIST_NCCL) {
        d->device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index));
        d->backend = make_nccl_backend(backend_store, rank, world, d->timeout);
      } else {
        throw std::invalid_argument("unknown process group backend " + std::to_string(backend));
      }
    } catch (const std::exception &e) {
      d->stop_heartbeat(true);
      throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(world) +
                               " could not join the process group at " + d->host + ":" + std::to_string(port) +
                               " within " + std::to_string(timeout_ms / 1000) + " s: " + message_of(e));
    }
    return d.release();
  })
}

int32_t ct_dist_rank(ct_dist d) { return d->rank; }
int32_t ct_dist_world(ct_dist d) { return d->world; }

int32_t ct_dist_all_reduce(ct_dist d, ct_tensor t, int32_t op) {
  CT_TRY(-1, {
    at::Tensor x = T(t);
    if (!x.is_contiguous()) throw std::invalid_argument("all-reduce needs a contiguous tensor");
    d->all_reduce(x, reduce_op(op));
    return 0;
  })
}

int32_t ct_dist_broadcast(ct_dist d, ct_tensor t, int32_t root) {
  CT_TRY(-1, {
    at::Tensor x = T(t);
    if (!x.is_contiguous()) throw std::invalid_argument("broadcast needs a contiguous tensor");
    d->collective("broadcast", [&] {
      std::vector<at::Tensor> ts{x};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      o.timeout = d->timeout;
      d->backend->broadcast(ts, o)->wait();
    });
    return 0;
  })
}

int32_t ct_dist_barrier(ct_dist d) {
  CT_TRY(-1, {
    // An all-reduce of one number: the same synchronisation on every backend, with the timeout
    // and the failure report of every collective.
    at::Tensor x = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(d->device));
    d->all_reduce(x, c10d::ReduceOp(c10d::ReduceOp::SUM));
    return 0;
  })
}

int32_t ct_dist_all_gather_bytes(ct_dist d, const void *data, int64_t n, uint8_t **out, int64_t *sizes) {
  CT_TRY(-1, {
    *out = nullptr;
    auto on = at::TensorOptions().device(d->device);
    // Sizes first (a sum of one-hot rows), then every payload padded to the largest.
    at::Tensor counts = at::zeros({d->world}, on.dtype(at::kLong));
    counts[d->rank].fill_(n);
    d->all_reduce(counts, c10d::ReduceOp(c10d::ReduceOp::SUM));
    at::Tensor cpu_counts = counts.cpu();
    int64_t largest = 0, total = 0;
    for (int r = 0; r < d->world; r++) {
      sizes[r] = cpu_counts[r].item<int64_t>();
      largest = std::max(largest, sizes[r]);
      total += sizes[r];
    }
    at::Tensor mine = at::zeros({std::max<int64_t>(largest, 1)}, at::TensorOptions().dtype(at::kByte));
    if (n > 0) std::memcpy(mine.data_ptr<uint8_t>(), data, static_cast<size_t>(n));
    mine = mine.to(d->device);
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int r = 0; r < d->world; r++) outputs[0].push_back(at::empty_like(mine));
    d->collective("all-gather", [&] {
      std::vector<at::Tensor> inputs{mine};
      c10d::AllgatherOptions o;
      o.timeout = d->timeout;
      d->backend->allgather(outputs, inputs, o)->wait();
    });
    auto *buffer = static_cast<uint8_t *>(std::malloc(static_cast<size_t>(std::max<int64_t>(total, 1))));
    if (!buffer) throw std::bad_alloc();
    int64_t at = 0;
    for (int r = 0; r < d->world; r++) {
      at::Tensor part = outputs[0][static_cast<size_t>(r)].cpu();
      if (sizes[r] > 0) std::memcpy(buffer + at, part.data_ptr<uint8_t>(), static_cast<size_t>(sizes[r]));
      at += sizes[r];
    }
    *out = buffer;
    return 0;
  })
}

void ct_dist_free_bytes(uint8_t *p) { std::free(p); }

ct_tensor ct_dist_all_reduce_differentiable(ct_dist d, ct_tensor t) {
  CT_TENSOR(AllReduceSum::apply(T(t), reinterpret_cast<int64_t>(d)))
}

void ct_dist_report_failure(ct_dist d, const char *message) {
  try {
    d->store->set("failure/" + std::to_string(d->rank), bytes(message ? message : "unknown error"));
  } catch (...) {
    // Best effort: the store may be gone too.
  }
}

bool ct_dist_failed(ct_dist d) { return d->failed.load(); }

void ct_dist_free(ct_dist d) {
  if (!d) return;
  if (d->failed.load()) {
    // A failed group may still have work waiting on a peer that hangs: destroying the backend
    // would wait for it (up to the timeout). The process is about to stop, so it is left as it is.
    d->stop_heartbeat(false);
    (void)d->backend.release();
    (void)d->store.release();
    return;
  }
  d->stop_heartbeat(true);
  delete d;
}

}  // extern "C"
