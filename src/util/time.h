// Timestamps: microseconds since the Unix epoch, UTC. Text form is ISO 8601 with
// microseconds and a Z, which sorts as text in the same order as in time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace reftrack {

using Micros = int64_t;
using Clock = std::function<Micros()>;

Micros NowMicros();
// "2026-11-22T21:55:34.123456Z"
std::string FormatTimestamp(Micros t);
std::optional<Micros> ParseTimestamp(std::string_view text);

}  // namespace reftrack
