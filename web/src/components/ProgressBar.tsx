import type { UploadProgress } from '../api';

/**
 * The upload's progress: a percentage while the file is sent, then how far the server
 * has read its rows (as it reports it), then "Finishing…" until the answer.
 */
export function ProgressBar({ progress, fileName }: { progress: UploadProgress; fileName: string }) {
  const reading = progress.phase === 'reading';
  const known = progress.percent !== undefined;
  const value = progress.percent ?? 100;
  const text = !reading
    ? `Uploading ${fileName}… ${value}%`
    : !known
      ? 'Reading rows…'
      : value < 100
        ? `Reading rows… ${value}%`
        : 'Finishing…';
  return (
    <div class="progress">
      <div
        class={reading && (!known || value >= 100) ? 'progress-track progress-reading' : 'progress-track'}
        role="progressbar"
        aria-label="Upload progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value}
        aria-valuetext={text}
      >
        <div class="progress-fill" style={{ width: `${value}%` }} />
      </div>
      <p class="progress-text" aria-live="polite">{text}</p>
    </div>
  );
}
