#include "util/value_set.h"

#include <absl/hash/hash.h>

#include <bit>
#include <cstring>
#include <stdexcept>

namespace reftrack {

namespace {

// The table grows past 3/4 full: a linear probe then looks at about 2.5 slots for a
// value the set holds and 8.5 for one it does not, eight slots to a cache line.
bool Crowded(size_t values, size_t slots) { return values * 4 > slots * 3; }

// Values IndexOfMany looks up together: enough for the fetches of one group to
// overlap, few enough that what they fetched is still in the cache when used.
constexpr size_t kGroup = 16;

}  // namespace

uint64_t ValueSet::Hash(std::string_view value) { return absl::Hash<std::string_view>{}(value); }

std::string_view ValueSet::RecordValue(uint64_t offset) const {
  RecordHead head;
  std::memcpy(&head, arena_.data() + offset, sizeof head);
  return {arena_.data() + offset + sizeof head, head.size};
}

uint32_t ValueSet::RecordIndex(uint64_t offset) const {
  RecordHead head;
  std::memcpy(&head, arena_.data() + offset, sizeof head);
  return head.index;
}

void ValueSet::Reserve(size_t n) {
  if (n == 0) return;
  records_.reserve(n);
  if (Crowded(n, slots_.size())) Grow(std::bit_ceil(n * 4 / 3 + 1));
}

std::optional<uint64_t> ValueSet::Find(std::string_view value, uint64_t hash, size_t slot) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = Tag(hash);
  for (;; slot = (slot + 1) & mask) {
    const uint64_t s = slots_[slot];
    if (s == 0) return std::nullopt;
    if (s >> kOffsetBits != tag) continue;
    const uint64_t offset = (s & ((uint64_t{1} << kOffsetBits) - 1)) - 1;
    if (RecordValue(offset) == value) return offset;
  }
}

uint32_t ValueSet::Intern(std::string_view value) {
  if (Crowded(records_.size() + 1, slots_.size())) {
    Grow(std::max<size_t>(16, slots_.size() * 2));
  }
  const uint64_t hash = Hash(value);
  const size_t mask = slots_.size() - 1;
  size_t slot = hash & mask;
  if (auto found = Find(value, hash, slot)) return RecordIndex(*found);
  while (slots_[slot] != 0) slot = (slot + 1) & mask;
  const uint64_t offset = arena_.size();
  if (offset + sizeof(RecordHead) + value.size() >= (uint64_t{1} << kOffsetBits) - 1 ||
      records_.size() >= kAbsent) {
    throw std::length_error("a set of values larger than 1 TiB");
  }
  const RecordHead head{static_cast<uint32_t>(records_.size()),
                        static_cast<uint32_t>(value.size())};
  const auto* head_bytes = reinterpret_cast<const char*>(&head);
  arena_.insert(arena_.end(), head_bytes, head_bytes + sizeof head);
  arena_.insert(arena_.end(), value.begin(), value.end());
  slots_[slot] = (Tag(hash) << kOffsetBits) | (offset + 1);
  records_.push_back(offset);
  return head.index;
}

std::optional<uint32_t> ValueSet::IndexOf(std::string_view value) const {
  if (records_.empty()) return std::nullopt;
  const uint64_t hash = Hash(value);
  auto found = Find(value, hash, hash & (slots_.size() - 1));
  if (!found) return std::nullopt;
  return RecordIndex(*found);
}

// In three passes over each group: hash every value and start fetching its first
// slot; then read the slots and start fetching the records they point to; then
// compare. A value whose first slot is not its own (a collision) is probed further
// the plain way.
void ValueSet::IndexOfMany(std::span<const std::string_view> values,
                           std::span<uint32_t> out) const {
  if (records_.empty()) {
    std::fill(out.begin(), out.end(), kAbsent);
    return;
  }
  const size_t mask = slots_.size() - 1;
  uint64_t hashes[kGroup];
  uint64_t firsts[kGroup];
  for (size_t start = 0; start < values.size(); start += kGroup) {
    const size_t n = std::min(kGroup, values.size() - start);
    for (size_t k = 0; k < n; ++k) {
      hashes[k] = Hash(values[start + k]);
      __builtin_prefetch(&slots_[hashes[k] & mask]);
    }
    for (size_t k = 0; k < n; ++k) {
      firsts[k] = slots_[hashes[k] & mask];
      if (firsts[k] != 0 && firsts[k] >> kOffsetBits == Tag(hashes[k])) {
        __builtin_prefetch(arena_.data() + (firsts[k] & ((uint64_t{1} << kOffsetBits) - 1)) - 1);
      }
    }
    for (size_t k = 0; k < n; ++k) {
      const std::string_view value = values[start + k];
      uint32_t& answer = out[start + k];
      if (firsts[k] == 0) {
        answer = kAbsent;
        continue;
      }
      const size_t slot = hashes[k] & mask;
      std::optional<uint64_t> found = Find(value, hashes[k], slot);
      answer = found ? RecordIndex(*found) : kAbsent;
    }
  }
}

void ValueSet::Grow(size_t capacity) {
  HugePageVector<uint64_t> slots(capacity, 0);
  const size_t mask = capacity - 1;
  for (uint64_t offset : records_) {
    const uint64_t hash = Hash(RecordValue(offset));
    size_t slot = hash & mask;
    while (slots[slot] != 0) slot = (slot + 1) & mask;
    slots[slot] = (Tag(hash) << kOffsetBits) | (offset + 1);
  }
  slots_ = std::move(slots);
}

void ValueSet::Clear() {
  slots_ = {};
  arena_ = {};
  records_ = {};
}

}  // namespace reftrack
