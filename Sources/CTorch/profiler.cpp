// Operator profiler: libtorch's Kineto profiler (CPU activities) aggregated per operator.
#include "internal.h"
#include <torch/csrc/autograd/profiler_kineto.h>
#include <algorithm>
#include <map>
#include <sstream>

namespace prof = torch::autograd::profiler;
namespace impl = torch::profiler::impl;

namespace {

std::string shape_text(const prof::KinetoEvent &e) {
  if (!e.hasShapes()) return "";
  std::ostringstream s;
  bool firstInput = true;
  for (const auto &shape : e.shapes()) {
    if (!firstInput) s << ";";
    firstInput = false;
    for (size_t i = 0; i < shape.size(); ++i) s << (i ? "x" : "") << shape[i];
  }
  return s.str();
}

struct Row { int64_t calls = 0; uint64_t total = 0, self = 0; };

bool profiling = false;
bool with_shapes = false;
std::string report;

}  // namespace

using namespace ctorch;

extern "C" {

bool ct_profiler_start(bool record_shapes) {
  CT_TRY(false, {
    if (profiling) throw std::runtime_error("the profiler is already running");
    impl::ProfilerConfig config(impl::ProfilerState::KINETO, record_shapes);
    std::set<impl::ActivityType> activities{impl::ActivityType::CPU};
    prof::prepareProfiler(config, activities);
    prof::enableProfiler(config, activities);
    profiling = true;
    with_shapes = record_shapes;
    return true;
  })
}

// Self time of an event = its duration minus that of the events directly nested in it on the
// same thread (events on one thread nest strictly: RecordFunction scopes).
const char *ct_profiler_stop(const char *trace_path) {
  CT_TRY(nullptr, {
    if (!profiling) throw std::runtime_error("the profiler is not running");
    profiling = false;
    auto result = prof::disableProfiler();
    if (trace_path && *trace_path) result->save(trace_path);
    const auto &events = result->events();
    std::vector<size_t> order(events.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const auto &x = events[a], &y = events[b];
      if (x.startThreadId() != y.startThreadId()) return x.startThreadId() < y.startThreadId();
      if (x.startNs() != y.startNs()) return x.startNs() < y.startNs();
      return x.durationNs() > y.durationNs();
    });
    std::vector<uint64_t> children(events.size(), 0);
    std::vector<size_t> stack;
    uint64_t thread = 0;
    for (size_t idx : order) {
      const auto &e = events[idx];
      if (stack.empty() || e.startThreadId() != thread) { stack.clear(); thread = e.startThreadId(); }
      while (!stack.empty() && events[stack.back()].endNs() <= e.startNs()) stack.pop_back();
      if (!stack.empty()) children[stack.back()] += e.durationNs();
      stack.push_back(idx);
    }
    std::map<std::pair<std::string, std::string>, Row> rows;
    for (size_t i = 0; i < events.size(); ++i) {
      const auto &e = events[i];
      auto &r = rows[{e.name(), with_shapes ? shape_text(e) : std::string()}];
      r.calls += 1;
      r.total += e.durationNs();
      r.self += e.durationNs() > children[i] ? e.durationNs() - children[i] : 0;
    }
    std::ostringstream out;
    for (const auto &[key, r] : rows)
      out << key.first << '\t' << key.second << '\t' << r.calls << '\t' << r.total << '\t' << r.self << '\n';
    report = out.str();
    return report.c_str();
  })
}

}  // extern "C"
