import type { Status } from '../types';

/** A status as a coloured pill; the text stays the status's own word. */
export function StatusBadge({ status, testId }: { status: Status; testId?: string }) {
  return (
    <span class={`badge badge-${status}`} data-testid={testId}>
      {status}
    </span>
  );
}
