/** The reftrack logo: an R on a rounded square (decorative; the name is beside it). */
export function BrandMark() {
  return (
    <svg viewBox="0 0 32 32" class="brand-mark" aria-hidden="true">
      <rect width="32" height="32" rx="7" />
      <path d="M9 22V10h7a4 4 0 0 1 0 8h-7m7 0 5 4" />
    </svg>
  );
}
