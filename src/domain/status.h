#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace reftrack {

enum class Status { kPending = 0, kQualified = 1, kApproved = 2, kDenied = 3 };

inline constexpr std::array<Status, 4> kAllStatuses = {Status::kPending, Status::kQualified,
                                                       Status::kApproved, Status::kDenied};

std::string_view StatusName(Status s);
// Case-insensitive and trimmed: "Qualified ", "QUALIFIED" and "qualified" all parse.
std::optional<Status> ParseStatus(std::string_view text);

// Where a status change came from (SPEC §1 "status change").
enum class ChangeSource { kManual, kImport, kQualifyUpload, kApi };
std::string_view SourceName(ChangeSource s);
std::optional<ChangeSource> ParseSource(std::string_view text);

}  // namespace reftrack
