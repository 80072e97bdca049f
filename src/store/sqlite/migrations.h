#pragma once

#include <span>

namespace reftrack::sqlite {

// Schema versions, in order: migration i brings the schema to version i + 1.
// Append only: a released migration never changes.
std::span<const char* const> Migrations();

}  // namespace reftrack::sqlite
