#include "util/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace reftrack {

Micros NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatTimestamp(Micros t) {
  std::time_t seconds = static_cast<std::time_t>(t / 1'000'000);
  int64_t micros = t % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

namespace {

// Reads `n` digits at `p`, or -1.
int Digits(const char* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

}  // namespace

// Exactly the form FormatTimestamp writes: "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::optional<Micros> ParseTimestamp(std::string_view t) {
  if (t.size() != 27 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != '.' || t[26] != 'Z') {
    return std::nullopt;
  }
  const char* p = t.data();
  std::tm tm{};
  tm.tm_year = Digits(p, 4) - 1900;
  tm.tm_mon = Digits(p + 5, 2) - 1;
  tm.tm_mday = Digits(p + 8, 2);
  tm.tm_hour = Digits(p + 11, 2);
  tm.tm_min = Digits(p + 14, 2);
  tm.tm_sec = Digits(p + 17, 2);
  int micros = Digits(p + 20, 6);
  if (tm.tm_year < -1900 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
      tm.tm_sec < 0 || micros < 0) {
    return std::nullopt;
  }
  return static_cast<Micros>(timegm(&tm)) * 1'000'000 + micros;
}

}  // namespace reftrack
