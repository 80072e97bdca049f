#include "util/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace reftrack {
namespace {

// A vector growing from bytes to tens of MiB through both kinds of block keeps its
// contents, and its large blocks start on a 2 MiB boundary.
TEST(HugePages, VectorGrowsThroughSmallAndMappedBlocks) {
  HugePageVector<uint64_t> v;
  for (uint64_t i = 0; i < 5'000'000; ++i) {
    v.push_back(i * 3);
    if (v.size() == v.capacity() && v.capacity() * sizeof(uint64_t) >= huge_pages::kMapped) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % huge_pages::kMapped, 0u) << v.size();
    }
  }
  for (uint64_t i = 0; i < v.size(); i += 4999) ASSERT_EQ(v[i], i * 3);
  v = HugePageVector<uint64_t>();
  EXPECT_EQ(v.capacity(), 0u);
}

TEST(HugePages, BlocksOfEverySizeAreUsableWhole) {
  for (size_t bytes : {size_t{2}, size_t{4096}, huge_pages::kMapped - 1, huge_pages::kMapped,
                       huge_pages::kMapped + 1, 3 * huge_pages::kMapped + 12345}) {
    auto* p = static_cast<unsigned char*>(huge_pages::Allocate(bytes));
    ASSERT_NE(p, nullptr);
    p[0] = 1;
    p[bytes - 1] = 2;
    EXPECT_EQ(p[0] + p[bytes - 1], 3) << bytes;
    huge_pages::Free(p, bytes);
  }
}

}  // namespace
}  // namespace reftrack
