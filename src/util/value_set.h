// A set of distinct strings built once and then probed many times (a qualify list,
// or the keys of an import file, matched against a million referrals), numbered in
// the order they were added.
//
// Its own open-addressing table, because probing is where such a match spends its
// time, and nearly all of it waiting for memory: a slot is 8 bytes (a tag of the
// value's hash and where its bytes are), the bytes sit in one arena with the value's
// number beside them, so a probe costs about two cache misses; and IndexOfMany looks
// many values up at once, starting the fetches of all before waiting for any, so
// their misses overlap. The table and the arena are on huge pages (util/huge_pages.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "util/huge_pages.h"

namespace reftrack {

class ValueSet {
 public:
  // IndexOfMany's answer for a value the set does not hold.
  static constexpr uint32_t kAbsent = UINT32_MAX;

  // `expected`: about how many values will be added (room is made for them at once).
  explicit ValueSet(size_t expected = 0) { Reserve(expected); }
  ValueSet(const ValueSet&) = delete;
  ValueSet& operator=(const ValueSet&) = delete;

  // Makes room for `n` values in all, so adding them does not grow the table.
  void Reserve(size_t n);

  // Adds a copy of `value` unless the set holds it; returns whether it was added.
  bool Insert(std::string_view value) {
    size_t before = size();
    Intern(value);
    return size() != before;
  }
  // Adds a copy of `value` unless the set holds it; returns its index: values are
  // numbered 0, 1, 2 … in the order they were first added.
  uint32_t Intern(std::string_view value);
  // The index of `value`, if the set holds it.
  std::optional<uint32_t> IndexOf(std::string_view value) const;
  // out[k] = the index of values[k], or kAbsent; `out` is as long as `values`.
  void IndexOfMany(std::span<const std::string_view> values, std::span<uint32_t> out) const;
  bool contains(std::string_view value) const { return IndexOf(value).has_value(); }

  // Empties the set and frees its memory.
  void Clear();
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  // The value of index `k`; valid until the next value is added.
  std::string_view operator[](uint32_t k) const { return RecordValue(records_[k]); }

 private:
  // A slot: 0 when empty, else the record's offset in the arena plus one (low 40
  // bits) and the top 24 bits of the value's hash.
  static constexpr int kOffsetBits = 40;
  // A record in the arena: the value's index and length, then its bytes.
  struct RecordHead {
    uint32_t index;
    uint32_t size;
  };

  static uint64_t Hash(std::string_view value);
  static uint64_t Tag(uint64_t hash) { return hash >> kOffsetBits; }
  std::string_view RecordValue(uint64_t offset) const;
  uint32_t RecordIndex(uint64_t offset) const;
  // Probes from `slot` for `value`: its record's offset, or nothing.
  std::optional<uint64_t> Find(std::string_view value, uint64_t hash, size_t slot) const;
  void Grow(size_t capacity);

  HugePageVector<uint64_t> slots_;  // a power of two of them, at most 3/4 full
  HugePageVector<char> arena_;
  HugePageVector<uint64_t> records_;  // each value's record offset, by index
};

}  // namespace reftrack
