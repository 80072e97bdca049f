#include "domain/status.h"

#include "domain/normalize.h"

namespace reftrack {

std::string_view StatusName(Status s) {
  switch (s) {
    case Status::kPending: return "pending";
    case Status::kQualified: return "qualified";
    case Status::kApproved: return "approved";
    case Status::kDenied: return "denied";
  }
  return "?";
}

std::optional<Status> ParseStatus(std::string_view text) {
  std::string lowered = LowerAscii(Trim(text));
  for (Status s : kAllStatuses) {
    if (lowered == StatusName(s)) return s;
  }
  return std::nullopt;
}

std::string_view SourceName(ChangeSource s) {
  switch (s) {
    case ChangeSource::kManual: return "manual";
    case ChangeSource::kImport: return "import";
    case ChangeSource::kQualifyUpload: return "qualify_upload";
    case ChangeSource::kApi: return "api";
  }
  return "?";
}

std::optional<ChangeSource> ParseSource(std::string_view text) {
  for (ChangeSource s : {ChangeSource::kManual, ChangeSource::kImport,
                         ChangeSource::kQualifyUpload, ChangeSource::kApi}) {
    if (text == SourceName(s)) return s;
  }
  return std::nullopt;
}

}  // namespace reftrack
