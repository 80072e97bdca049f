import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useTitle } from '../hooks';

interface PageProps {
  title: string;
  /** A line under the heading saying what the page is for. */
  lead?: ComponentChildren;
  /** Buttons or links at the heading's right. */
  actions?: ComponentChildren;
  children?: ComponentChildren;
}

/** A page: its one h1 (focused when the page opens, for screen readers and keyboards), then its content. */
export function Page({ title, lead, actions, children }: PageProps) {
  useTitle(title);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <>
      <header class="page-header">
        <div>
          <h1 tabIndex={-1} ref={heading}>{title}</h1>
          {lead && <p class="lead">{lead}</p>}
        </div>
        {actions && <div class="page-actions">{actions}</div>}
      </header>
      {children}
    </>
  );
}
