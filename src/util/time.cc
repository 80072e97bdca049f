#include "util/time.h"

#include <chrono>

namespace reftrack {

Micros NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
// civil-date algorithms): no time zone, no libc, exact for every year.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

void PutDigits(char* p, int64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

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

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" for years 0 to 9999.
std::string FormatTimestamp(Micros t) {
  int64_t days = t / 86'400'000'000;
  int64_t rest = t % 86'400'000'000;
  if (rest < 0) {
    rest += 86'400'000'000;
    --days;
  }
  int64_t year;
  int month, day;
  CivilFromDays(days, year, month, day);
  std::string out = "0000-00-00T00:00:00.000000Z";
  char* p = out.data();
  PutDigits(p, year, 4);
  PutDigits(p + 5, month, 2);
  PutDigits(p + 8, day, 2);
  PutDigits(p + 11, rest / 3'600'000'000, 2);
  PutDigits(p + 14, rest / 60'000'000 % 60, 2);
  PutDigits(p + 17, rest / 1'000'000 % 60, 2);
  PutDigits(p + 20, rest % 1'000'000, 6);
  return out;
}

// Exactly the form FormatTimestamp writes: "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::optional<Micros> ParseTimestamp(std::string_view t) {
  if (t.size() != 27 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != '.' || t[26] != 'Z') {
    return std::nullopt;
  }
  const char* p = t.data();
  const int year = Digits(p, 4), month = Digits(p + 5, 2), day = Digits(p + 8, 2);
  const int hour = Digits(p + 11, 2), minute = Digits(p + 14, 2), second = Digits(p + 17, 2);
  const int micros = Digits(p + 20, 6);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60 || micros < 0) {
    return std::nullopt;
  }
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86'400 + hour * 3'600 + minute * 60 + second;
  return seconds * 1'000'000 + micros;
}

}  // namespace reftrack
