#include "http/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace reftrack::http {

namespace {

// A label value as the text format wants it: backslash, quote and newline escaped.
std::string Label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::CountRequest(std::string_view route, std::string_view method, int status,
                           double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(method), status}];
  Histogram& h = latency_[{std::string(route), std::string(method)}];
  auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  if (bucket != kBuckets.end()) ++h.counts[bucket - kBuckets.begin()];
  ++h.count;
  h.sum += seconds;
}

void Metrics::CountBulk(std::string_view kind, std::string_view outcome) {
  std::lock_guard lock(mutex_);
  ++bulk_[{std::string(kind), std::string(outcome)}];
}

std::string Metrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP reftrack_http_requests_total HTTP requests answered, by route, method and status.\n";
  out += "# TYPE reftrack_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += fmt::format("reftrack_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                       Label(route), method, status, n);
  }
  out += "# HELP reftrack_http_request_duration_seconds Time from a request's header to its answer.\n";
  out += "# TYPE reftrack_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    std::string labels = fmt::format("route=\"{}\",method=\"{}\"", Label(key.first), key.second);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      out += fmt::format("reftrack_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                         labels, kBuckets[i], cumulative);
    }
    out += fmt::format("reftrack_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                       labels, h.count);
    out += fmt::format("reftrack_http_request_duration_seconds_sum{{{}}} {}\n", labels, h.sum);
    out += fmt::format("reftrack_http_request_duration_seconds_count{{{}}} {}\n", labels, h.count);
  }
  out += "# HELP reftrack_bulk_files_total Imports and qualify uploads, by outcome.\n";
  out += "# TYPE reftrack_bulk_files_total counter\n";
  for (const auto& [key, n] : bulk_) {
    out += fmt::format("reftrack_bulk_files_total{{kind=\"{}\",outcome=\"{}\"}} {}\n", key.first,
                       key.second, n);
  }
  return out;
}

}  // namespace reftrack::http
