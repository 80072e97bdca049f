import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, type UploadProgress } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  /** Loads again (after a change), keeping the current data on screen meanwhile. */
  reload: () => void;
}

/** Runs `load` whenever `deps` change; an answer that arrives after newer deps is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);

  useEffect(() => {
    const ticket = ++latest.current;
    setLoading(true);
    load().then(
      (value) => {
        if (ticket !== latest.current) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (ticket !== latest.current) return;
        setError(errorMessage(err));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload };
}

/** Sets the tab's title while the page is shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · reftrack` : 'reftrack';
  }, [title]);
}

/** An upload in flight: its progress (null when none) and `run`, which tracks one. */
export function useUploader() {
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const run = useCallback(async <T,>(start: (onProgress: (p: UploadProgress) => void) => Promise<T>): Promise<T> => {
    setProgress({ phase: 'sending', percent: 0 });
    try {
      return await start(setProgress);
    } finally {
      setProgress(null);
    }
  }, []);
  return { progress, run };
}
