#pragma once

#include <span>

namespace reftrack::pg {

// Schema versions, in order: migration i brings the schema to version i + 1. The
// same versions as the SQLite store's, in PostgreSQL's dialect. Append only.
std::span<const char* const> Migrations();

}  // namespace reftrack::pg
