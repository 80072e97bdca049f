#include "util/value_set.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace reftrack {
namespace {

// Values of every shape a file holds: empty, short, long, with NUL and non-ASCII
// bytes, and many that differ only in their last byte.
std::vector<std::string> SomeValues(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    switch (i % 5) {
      case 0:
        out.push_back("crm-" + std::to_string(rng() % 10'000'000));
        break;
      case 1:
        out.push_back(std::string(rng() % 300, static_cast<char>('a' + i % 26)) +
                      std::to_string(i));
        break;
      case 2:
        out.push_back(std::string("nul\0byte", 8) + std::to_string(rng()));
        break;
      case 3:
        out.push_back("élève" + std::to_string(rng() % 1000) + "@example.com");
        break;
      default:
        out.push_back(i % 1000 == 4 ? std::string() : std::to_string(rng()));
    }
  }
  return out;
}

TEST(ValueSet, NumbersValuesInTheOrderTheyWereFirstAdded) {
  ValueSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.Intern("b"), 0u);
  EXPECT_EQ(set.Intern("a"), 1u);
  EXPECT_EQ(set.Intern("b"), 0u);
  EXPECT_TRUE(set.Insert("c"));
  EXPECT_FALSE(set.Insert("a"));
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set[0], "b");
  EXPECT_EQ(set[1], "a");
  EXPECT_EQ(set[2], "c");
  EXPECT_EQ(set.IndexOf("c"), 2u);
  EXPECT_EQ(set.IndexOf("d"), std::nullopt);
  EXPECT_TRUE(set.contains("a"));
  EXPECT_FALSE(set.contains(""));
}

// Through many doublings of the table, every value keeps its number and its bytes,
// and no value that was not added is found: checked against a standard map.
TEST(ValueSet, AgreesWithAMapThroughGrowth) {
  const std::vector<std::string> values = SomeValues(200'000, 7);
  ValueSet set;
  std::unordered_map<std::string, uint32_t> model;
  for (const std::string& v : values) {
    auto [it, added] = model.try_emplace(v, static_cast<uint32_t>(model.size()));
    ASSERT_EQ(set.Intern(v), it->second) << v;
  }
  ASSERT_EQ(set.size(), model.size());
  for (const auto& [v, k] : model) {
    ASSERT_EQ(set.IndexOf(v), k) << v;
    ASSERT_EQ(set[k], v);
  }
  for (const std::string& other : SomeValues(50'000, 8)) {
    auto it = model.find(other);
    ASSERT_EQ(set.IndexOf(other), it == model.end() ? std::nullopt : std::optional(it->second))
        << other;
  }
}

// IndexOfMany answers as IndexOf does, value by value, for runs of every length
// around its group size, present and absent values mixed.
TEST(ValueSet, IndexOfManyAnswersAsIndexOf) {
  const std::vector<std::string> added = SomeValues(30'000, 11);
  ValueSet set(added.size());
  for (const std::string& v : added) set.Intern(v);
  std::vector<std::string> probes = SomeValues(20'000, 12);
  probes.insert(probes.end(), added.begin(), added.begin() + 20'000);
  std::shuffle(probes.begin(), probes.end(), std::mt19937(13));
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{40'000}}) {
    std::vector<std::string_view> views(probes.begin(), probes.begin() + n);
    std::vector<uint32_t> out(n, 12345);
    set.IndexOfMany(views, out);
    size_t found = 0;
    for (size_t k = 0; k < n; ++k) {
      std::optional<uint32_t> want = set.IndexOf(views[k]);
      ASSERT_EQ(out[k], want.value_or(ValueSet::kAbsent)) << n << " " << k;
      found += want.has_value();
    }
    if (n == 40'000) {
      EXPECT_GT(found, 19'000u);  // the probes hold 20,000 added values
    }
  }
}

TEST(ValueSet, EmptyAndClearedSetsHoldNothing) {
  ValueSet set;
  std::vector<std::string_view> views{"a", ""};
  std::vector<uint32_t> out(2, 0);
  set.IndexOfMany(views, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{ValueSet::kAbsent, ValueSet::kAbsent}));
  EXPECT_EQ(set.IndexOf(""), std::nullopt);

  for (const std::string& v : SomeValues(1000, 3)) set.Intern(v);
  set.Clear();
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.IndexOf("crm-1"), std::nullopt);
  set.IndexOfMany(views, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{ValueSet::kAbsent, ValueSet::kAbsent}));
  EXPECT_EQ(set.Intern(""), 0u);
  EXPECT_EQ(set.IndexOf(""), 0u);
  EXPECT_EQ(set.IndexOf("a"), std::nullopt);
}

TEST(ValueSet, ReservedRoomHoldsTheSameValues) {
  const std::vector<std::string> values = SomeValues(5000, 21);
  ValueSet grown, reserved(values.size());
  reserved.Reserve(values.size() / 2);  // less than before: keeps what it has
  for (const std::string& v : values) ASSERT_EQ(reserved.Intern(v), grown.Intern(v));
  ASSERT_EQ(reserved.size(), grown.size());
  for (uint32_t k = 0; k < grown.size(); ++k) ASSERT_EQ(reserved[k], grown[k]);
}

}  // namespace
}  // namespace reftrack
