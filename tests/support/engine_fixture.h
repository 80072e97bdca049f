// A fresh store and engine per test, run once per store kind (StoreKinds()), with a
// clock the test moves by hand.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/engine.h"
#include "support/test_db.h"

namespace reftrack::testing {

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = FreshDatabaseUrl(GetParam(), dir_);
    auto store = Store::Open(url_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
    engine_ = std::make_unique<Engine>(*store_, [this] { return now_; });
  }

  // Advances the test clock and returns the new time.
  Micros Tick(Micros by = 1'000'000) { return now_ += by; }

  int64_t AddCampaign(const std::string& name) {
    auto c = engine_->AddCampaign(name);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
    return c ? c->id : 0;
  }

  int64_t AddReferral(const std::string& campaign, const std::string& email) {
    ReferralInput in;
    in.campaign = campaign;
    in.email = email;
    auto r = engine_->AddReferral(in);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->id : 0;
  }

  Referral Get(int64_t id) {
    auto r = store_->GetReferral(id);
    EXPECT_TRUE(r.has_value() && r->has_value());
    return r && *r ? **r : Referral{};
  }

  std::vector<StatusChange> HistoryOf(int64_t id) {
    auto h = store_->History(id);
    EXPECT_TRUE(h.has_value());
    return h ? *h : std::vector<StatusChange>{};
  }

  Result<StatusChangeOutcome> Change(int64_t id, Status to) {
    Tick();
    return engine_->ChangeStatus(id, to, ChangeContext{ChangeSource::kManual, "test", {}});
  }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
  Micros now_ = 1'700'000'000'000'000;
};

}  // namespace reftrack::testing
