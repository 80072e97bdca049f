import { formatCount, percent } from '../format';
import type { CampaignStats } from '../types';

const WIDTH = 560;
const ROW = 44;
const LABEL = 120;

/**
 * A campaign's funnel: referred → qualified (ever) → approved, with denied
 * beside them; bars are scaled to the referred count. Drawn in SVG, coloured by CSS classes.
 */
export function Funnel({ stats }: { stats: CampaignStats }) {
  const steps = [
    { key: 'referred', label: 'Referred', value: stats.total },
    { key: 'qualified', label: 'Qualified', value: stats.ever_qualified },
    { key: 'approved', label: 'Approved', value: stats.counts.approved },
    { key: 'denied', label: 'Denied', value: stats.counts.denied },
  ];
  const label = `Funnel for ${stats.name}: ${steps.map((s) => `${formatCount(s.value)} ${s.label.toLowerCase()}`).join(', ')}`;
  const barSpace = WIDTH - LABEL - 110;
  const height = steps.length * ROW;
  return (
    <svg class="funnel" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={label} preserveAspectRatio="xMinYMin meet">
      {steps.map((step, i) => {
        const width = stats.total > 0 ? Math.max(step.value > 0 ? 4 : 0, (step.value / stats.total) * barSpace) : 0;
        const y = i * ROW;
        return (
          <g key={step.key} class={`funnel-step funnel-${step.key}`}>
            <text class="funnel-label" x={0} y={y + ROW / 2} dominant-baseline="middle">{step.label}</text>
            <rect class="funnel-track" x={LABEL} y={y + 8} width={barSpace} height={ROW - 16} rx={6} />
            <rect class="funnel-bar" x={LABEL} y={y + 8} width={width} height={ROW - 16} rx={6} />
            <text class="funnel-value" x={LABEL + barSpace + 12} y={y + ROW / 2} dominant-baseline="middle">
              {formatCount(step.value)}
              {i > 0 && <tspan class="funnel-percent" dx={6}>{percent(step.value, stats.total)}</tspan>}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
