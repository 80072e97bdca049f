/** The wizard's steps, the current one marked (aria-current="step"). */
export function Steps({ steps, current }: { steps: string[]; current: number }) {
  return (
    <ol class="steps" aria-label="Steps">
      {steps.map((step, i) => (
        <li
          key={step}
          class={i < current ? 'step step-done' : i === current ? 'step step-current' : 'step'}
          aria-current={i === current ? 'step' : undefined}
        >
          <span class="step-number" aria-hidden="true">{i + 1}</span>
          <span class="step-label">{step}</span>
        </li>
      ))}
    </ol>
  );
}
