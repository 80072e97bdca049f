// A set of distinct strings built once and then probed many times (a qualify list
// matched against a million referrals): the bytes live in one arena, and a flat hash
// table (Abseil's SwissTable) holds views of them, so a probe touches about one
// cache line of the table instead of a chain of nodes. The table and the arena of a
// large set are on huge pages (util/huge_pages.h).
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <string_view>
#include <vector>

#include "util/huge_pages.h"

namespace reftrack {

class ValueSet {
 public:
  // `expected`: about how many values will be added (room is made for them at once).
  explicit ValueSet(size_t expected = 0) {
    index_.reserve(expected);
    values_.reserve(expected);
  }
  ValueSet(const ValueSet&) = delete;
  ValueSet& operator=(const ValueSet&) = delete;

  // Makes room for `n` values in all, so adding them does not grow the table.
  void Reserve(size_t n) {
    index_.reserve(n);
    values_.reserve(n);
  }
  // Adds a copy of `value` unless the set holds it; returns whether it was added.
  bool Insert(std::string_view value) {
    size_t before = values_.size();
    Intern(value);
    return values_.size() != before;
  }
  // Adds a copy of `value` unless the set holds it; returns its index: values are
  // numbered 0, 1, 2 … in the order they were first added.
  uint32_t Intern(std::string_view value) {
    return index_
        .lazy_emplace(value,
                      [&](const auto& construct) {
                        char* bytes = static_cast<char*>(arena_.allocate(value.size(), 1));
                        std::char_traits<char>::copy(bytes, value.data(), value.size());
                        std::string_view copy(bytes, value.size());
                        construct(copy, static_cast<uint32_t>(values_.size()));
                        values_.push_back(copy);
                      })
        ->second;
  }
  // The index of `value`, if the set holds it.
  std::optional<uint32_t> IndexOf(std::string_view value) const {
    auto it = index_.find(value);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }
  // Empties the set and frees its memory.
  void Clear() {
    index_ = {};
    values_ = {};
    arena_.release();
  }
  bool contains(std::string_view value) const { return index_.contains(value); }
  size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }
  // The value of index `k`.
  std::string_view operator[](uint32_t k) const { return values_[k]; }
  // In index order.
  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }

 private:
  std::pmr::monotonic_buffer_resource arena_{HugePageResource()};
  absl::flat_hash_map<std::string_view, uint32_t, absl::Hash<std::string_view>,
                      std::equal_to<std::string_view>,
                      HugePageAllocator<std::pair<const std::string_view, uint32_t>>>
      index_;
  std::vector<std::string_view, HugePageAllocator<std::string_view>> values_;
};

}  // namespace reftrack
