import { formatCount } from '../format';

/** A number with its label; `testId` marks the element whose text is only the number. */
export function Stat({ label, value, testId, tone }: { label: string; value: number; testId: string; tone?: 'good' | 'bad' | 'warn' }) {
  return (
    <div class={tone ? `stat stat-${tone}` : 'stat'}>
      <span class="stat-value" data-testid={testId}>{formatCount(value)}</span>
      <span class="stat-label">{label}</span>
    </div>
  );
}
