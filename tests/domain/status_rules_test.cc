// The transition table against SPEC §2, stated here independently of the table:
// approved is final, same status is unchanged, denied -> qualified only when never
// qualified, everything else allowed.
#include "domain/status_rules.h"

#include <gtest/gtest.h>

namespace reftrack {
namespace {

Verdict Expected(Status from, Status to, bool ever_qualified) {
  if (from == to) return Verdict::kUnchanged;
  if (from == Status::kApproved) return Verdict::kRefusedFinal;
  if (from == Status::kDenied && to == Status::kQualified && ever_qualified) {
    return Verdict::kRefusedQualifiedBefore;
  }
  return Verdict::kChange;
}

TEST(StatusRules, AllSixteenPairsWithAndWithoutEarlierQualification) {
  int checked = 0;
  for (Status from : kAllStatuses) {
    for (Status to : kAllStatuses) {
      for (bool ever_qualified : {false, true}) {
        SCOPED_TRACE(std::string(StatusName(from)) + " -> " + std::string(StatusName(to)) +
                     (ever_qualified ? " (qualified before)" : " (never qualified)"));
        EXPECT_EQ(Decide(from, to, ever_qualified), Expected(from, to, ever_qualified));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 32);
}

TEST(StatusRules, DeniedToQualifiedDependsOnlyOnThePast) {
  EXPECT_EQ(Decide(Status::kDenied, Status::kQualified, false), Verdict::kChange);
  EXPECT_EQ(Decide(Status::kDenied, Status::kQualified, true), Verdict::kRefusedQualifiedBefore);
  // pending -> qualified stays allowed after an earlier qualification.
  EXPECT_EQ(Decide(Status::kPending, Status::kQualified, true), Verdict::kChange);
}

TEST(StatusRules, ApprovedIsFinalWhateverThePast) {
  for (Status to : {Status::kPending, Status::kQualified, Status::kDenied}) {
    for (bool ever_qualified : {false, true}) {
      EXPECT_EQ(Decide(Status::kApproved, to, ever_qualified), Verdict::kRefusedFinal);
    }
  }
}

TEST(StatusRules, RefusalMessagesNameTheRule) {
  EXPECT_EQ(RefusalMessage(42, Status::kDenied, Status::kQualified,
                           Verdict::kRefusedQualifiedBefore),
            "referral 42 was qualified before; it cannot be qualified again from denied");
  std::string final_msg =
      RefusalMessage(7, Status::kApproved, Status::kPending, Verdict::kRefusedFinal);
  EXPECT_NE(final_msg.find("referral 7"), std::string::npos);
  EXPECT_NE(final_msg.find("approved is final"), std::string::npos);
  EXPECT_NE(final_msg.find("pending"), std::string::npos);
}

TEST(StatusNames, ParseIsCaseInsensitiveAndTrimmed) {
  EXPECT_EQ(ParseStatus(" Qualified "), Status::kQualified);
  EXPECT_EQ(ParseStatus("APPROVED"), Status::kApproved);
  EXPECT_EQ(ParseStatus("denied\r"), Status::kDenied);
  EXPECT_EQ(ParseStatus("approve"), std::nullopt);
  EXPECT_EQ(ParseStatus(""), std::nullopt);
  for (Status s : kAllStatuses) EXPECT_EQ(ParseStatus(StatusName(s)), s);
}

}  // namespace
}  // namespace reftrack
