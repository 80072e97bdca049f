import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, type UploadProgress } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  /** Loads again (after a change), keeping the current data on screen meanwhile; resolves when done. */
  reload: () => Promise<void>;
}

/** Runs `load` whenever `deps` change; an answer that arrives after a newer request is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(async () => {
    const ticket = ++latest.current;
    setLoading(true);
    try {
      const value = await loader.current();
      if (ticket !== latest.current) return;
      setData(value);
      setError(undefined);
    } catch (err) {
      if (ticket !== latest.current) return;
      setError(errorMessage(err));
    } finally {
      if (ticket === latest.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

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
