import { formatTime, formatTimeFull } from '../format';

/** A timestamp in the reader's locale; empty when there is none. */
export function Time({ at, empty = '—' }: { at: string | null | undefined; empty?: string }) {
  if (!at) return <span class="muted">{empty}</span>;
  return <time dateTime={at} title={formatTimeFull(at)}>{formatTime(at)}</time>;
}
