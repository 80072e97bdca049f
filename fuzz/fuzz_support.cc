#include "fuzz_support.h"

#include <string>

namespace reftrack::fuzz {

namespace {

template <class T>
T Must(Result<T> result, const char* what) {
  FUZZ_CHECK(result.has_value(), "seeding: %s: %s", what, result.error().message.c_str());
  return std::move(*result);
}

void Seed(Engine& engine) {
  Must(engine.AddCampaign("Spring"), "campaign");
  Must(engine.AddCampaign("Fall"), "campaign");
  Must(engine.AddMember({.campaign = "Spring", .email = "member@x.com", .name = "Mo",
                         .referral_code = "MO-1"}),
       "member");
  const char* emails[] = {"ann@x.com",     "denied-never@x.com", "qualified@x.com",
                          "approved@x.com", "back@x.com",         "denied-after@x.com",
                          "direct@x.com",  "referred@x.com"};
  for (int i = 0; i < 8; ++i) {
    std::string n = std::to_string(i + 1);
    ReferralInput input{.campaign = "Spring", .email = emails[i], .name = "Person " + n,
                        .external_id = "crm-" + n, .referral_code = "CODE" + n,
                        .coupon_code = "SAVE-" + n};
    if (i == 7) input.referrer_email = "member@x.com";
    Must(engine.AddReferral(input), "referral");
  }
  Must(engine.AddReferral({.campaign = "Fall", .email = "ann@x.com", .external_id = "crm-1",
                           .referral_code = "FALL1", .coupon_code = "SAVE-F1"}),
       "referral");
  Must(engine.AddRewardRule({.campaign = "Spring", .on = "qualified", .to = "both",
                             .amount = "10.00", .currency = "USD"}),
       "reward rule");
  ChangeContext context{.source = ChangeSource::kManual, .actor = "fuzz"};
  std::pair<int64_t, Status> steps[] = {
      {2, Status::kDenied},    {3, Status::kQualified}, {4, Status::kQualified},
      {4, Status::kApproved},  {5, Status::kQualified}, {5, Status::kPending},
      {6, Status::kQualified}, {6, Status::kDenied},    {7, Status::kApproved}};
  for (auto [id, to] : steps) Must(engine.ChangeStatus(id, to, context), "status change");
}

struct Seeded {
  std::unique_ptr<Store> store;
  std::unique_ptr<Engine> engine;
  StatusCounts counts;

  Seeded() {
    store = Must(Store::Open("sqlite::memory:"), "open");
    engine = std::make_unique<Engine>(*store);
    Seed(*engine);
    counts = Must(engine->CountReferrals(""), "counts").all;
  }
};

Seeded& Instance() {
  static Seeded seeded;
  return seeded;
}

}  // namespace

Store& SeededStore() { return *Instance().store; }
Engine& SeededEngine() { return *Instance().engine; }
StatusCounts SeededCounts() { return Instance().counts; }

void CheckSeededStoreUnchanged(Engine& engine) {
  auto counts = engine.CountReferrals("");
  FUZZ_CHECK(counts && counts->all.by_status == SeededCounts().by_status &&
                 counts->all.ever_qualified == SeededCounts().ever_qualified,
             "the seeded store changed");
}

}  // namespace reftrack::fuzz
