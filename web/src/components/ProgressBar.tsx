import type { UploadProgress } from '../api';

/** The upload's progress: a percentage while the file is sent, then "Reading rows…" until the answer. */
export function ProgressBar({ progress, fileName }: { progress: UploadProgress; fileName: string }) {
  const reading = progress.phase === 'reading';
  const value = reading ? 100 : progress.percent;
  const text = reading ? 'Reading rows…' : `Uploading ${fileName}… ${value}%`;
  return (
    <div class="progress">
      <div
        class={reading ? 'progress-track progress-reading' : 'progress-track'}
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
