// A set of distinct strings built once and then probed many times (a qualify list
// matched against a million referrals): the bytes live in one arena, and a flat hash
// table (Abseil's SwissTable) holds views of them, so a probe touches about one
// cache line of the table instead of a chain of nodes.
#pragma once

#include <absl/container/flat_hash_set.h>

#include <cstddef>
#include <memory_resource>
#include <string_view>

namespace reftrack {

class ValueSet {
 public:
  // `expected`: about how many values will be added (room is made for them at once).
  explicit ValueSet(size_t expected = 0) { set_.reserve(expected); }
  ValueSet(const ValueSet&) = delete;
  ValueSet& operator=(const ValueSet&) = delete;

  // Adds a copy of `value` unless the set holds it; returns whether it was added.
  bool Insert(std::string_view value) {
    bool added = false;
    set_.lazy_emplace(value, [&](const auto& construct) {
      char* bytes = static_cast<char*>(arena_.allocate(value.size(), 1));
      std::char_traits<char>::copy(bytes, value.data(), value.size());
      construct(std::string_view(bytes, value.size()));
      added = true;
    });
    return added;
  }
  bool contains(std::string_view value) const { return set_.contains(value); }
  size_t size() const { return set_.size(); }
  bool empty() const { return set_.empty(); }
  // In no particular order.
  auto begin() const { return set_.begin(); }
  auto end() const { return set_.end(); }

 private:
  std::pmr::monotonic_buffer_resource arena_;
  absl::flat_hash_set<std::string_view> set_;
};

}  // namespace reftrack
