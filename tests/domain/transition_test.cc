#include "domain/transition.h"

#include <gtest/gtest.h>

namespace reftrack {
namespace {

Referral Fresh() {
  Referral r;
  r.id = 9;
  r.status = Status::kPending;
  r.created_at = 100;
  r.status_changed_at = 100;
  return r;
}

Referral Step(const Referral& r, Status to, Micros at) {
  auto t = ComputeTransition(r, to, at);
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message);
  return t ? t->after : r;
}

TEST(Transition, QualifiedAtIsSetOnceAndKept) {
  Referral r = Step(Fresh(), Status::kQualified, 200);
  EXPECT_EQ(r.qualified_at, 200);
  r = Step(r, Status::kPending, 300);
  r = Step(r, Status::kQualified, 400);
  EXPECT_EQ(r.qualified_at, 200);
  r = Step(r, Status::kDenied, 500);
  EXPECT_EQ(r.denied_at, 500);
  r = Step(r, Status::kApproved, 600);
  EXPECT_EQ(r.qualified_at, 200);
  EXPECT_EQ(r.approved_at, 600);
  EXPECT_EQ(r.status_changed_at, 600);
}

TEST(Transition, PendingToApprovedPassesThroughQualified) {
  Referral r = Step(Fresh(), Status::kApproved, 250);
  EXPECT_EQ(r.status, Status::kApproved);
  EXPECT_EQ(r.qualified_at, 250);
  EXPECT_EQ(r.approved_at, 250);
}

TEST(Transition, DeniedAtIsTheLatestDenial) {
  Referral r = Step(Fresh(), Status::kDenied, 200);
  r = Step(r, Status::kPending, 300);
  r = Step(r, Status::kDenied, 400);
  EXPECT_EQ(r.denied_at, 400);
  EXPECT_FALSE(r.qualified_at.has_value());
  // Never qualified: denied -> qualified is allowed.
  r = Step(r, Status::kQualified, 500);
  EXPECT_EQ(r.qualified_at, 500);
}

TEST(Transition, SameStatusIsUnchangedAndTouchesNothing) {
  Referral before = Step(Fresh(), Status::kQualified, 200);
  auto t = ComputeTransition(before, Status::kQualified, 999);
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(t->changed);
  EXPECT_EQ(t->after.status_changed_at, 200);
  EXPECT_EQ(t->after.qualified_at, 200);
}

TEST(Transition, RefusedChangesCarryTheRule) {
  Referral r = Step(Fresh(), Status::kQualified, 200);
  r = Step(r, Status::kDenied, 300);
  auto refused = ComputeTransition(r, Status::kQualified, 400);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().verdict, Verdict::kRefusedQualifiedBefore);
  EXPECT_EQ(refused.error().message,
            "referral 9 was qualified before; it cannot be qualified again from denied");
}

}  // namespace
}  // namespace reftrack
