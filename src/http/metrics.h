// Counters for GET /metrics, in Prometheus' text format: requests by route, method and
// status, a latency histogram by route, and bulk files (imports, qualify uploads) by
// outcome.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace reftrack::http {

class Metrics {
 public:
  // `route` is the route's pattern ("" for a path no route has).
  void CountRequest(std::string_view route, std::string_view method, int status, double seconds);
  // kind: "import" or "qualify"; outcome: "preview", "applied", "refused" or "failed".
  void CountBulk(std::string_view kind, std::string_view outcome);
  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // each bucket alone; summed when shown
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, uint64_t> bulk_;
};

}  // namespace reftrack::http
