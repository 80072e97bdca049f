// Memory for the large tables a bulk import probes in random order (a hash table of a
// million keys, the plan's arrays): a block of 2 MiB or more is mapped on its own and
// marked for transparent huge pages. One page then covers 2 MiB instead of 4 KiB, so
// a random probe rarely misses the address cache (the TLB), and filling the block
// takes one page fault per 2 MiB instead of per 4 KiB. Where the kernel has huge
// pages off, the blocks are ordinary memory. Smaller blocks come from operator new.
#pragma once

#include <cstddef>
#include <vector>

namespace reftrack {

namespace huge_pages {
// Blocks of at least this many bytes are mapped on their own, aligned to it.
inline constexpr size_t kMapped = size_t{2} << 20;
// Throws std::bad_alloc when the memory cannot be had, as operator new does.
void* Allocate(size_t bytes);
// `bytes`: as given to the Allocate that returned `p`.
void Free(void* p, size_t bytes) noexcept;
}  // namespace huge_pages

// For containers: std::vector<T, HugePageAllocator<T>>, and Abseil's hash tables.
template <class T>
class HugePageAllocator {
 public:
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) { return static_cast<T*>(huge_pages::Allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { huge_pages::Free(p, n * sizeof(T)); }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

template <class T>
using HugePageVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace reftrack
