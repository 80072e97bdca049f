// Sample data for `reftrack serve --demo`.
#pragma once

#include "engine/engine.h"

namespace reftrack::cli {

// Adds the campaign "Demo" with referrers, referrals in every status and a reward
// rule; false (and nothing added) when a campaign "Demo" exists already.
Result<bool> AddDemoData(Engine& engine);

}  // namespace reftrack::cli
