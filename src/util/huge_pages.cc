#include "util/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace reftrack::huge_pages {

namespace {

constexpr size_t kHugePage = kMapped;

size_t RoundUp(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

}  // namespace

void* Allocate(size_t bytes) {
  if (bytes < kMapped) return ::operator new(bytes);
  const size_t size = RoundUp(bytes);
  // Map one huge page more than needed, then unmap what lies before the first 2 MiB
  // boundary and after the block: the kernel gives huge pages to aligned ranges only.
  void* mapped =
      mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<uintptr_t>(mapped);
  uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  if (aligned > start) munmap(mapped, aligned - start);
  if (size_t tail = start + size + kHugePage - (aligned + size); tail > 0) {
    munmap(reinterpret_cast<void*>(aligned + size), tail);
  }
  void* block = reinterpret_cast<void*>(aligned);
  // Advice only: without huge pages the block is ordinary memory.
  (void)madvise(block, size, MADV_HUGEPAGE);
  return block;
}

void Free(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kMapped) {
    ::operator delete(p);
    return;
  }
  munmap(p, RoundUp(bytes));
}

}  // namespace reftrack::huge_pages
