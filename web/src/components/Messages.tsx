import type { ComponentChildren } from 'preact';

/** An error the user should read: announced at once (role=alert). */
export function Alert({ children }: { children: ComponentChildren }) {
  return (
    <div class="message message-error" role="alert">
      <svg class="message-icon" viewBox="0 0 20 20" aria-hidden="true"><path d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm-.9 4h1.8v5.5H9.1V6Zm0 7h1.8v1.8H9.1V13Z" /></svg>
      <div>{children}</div>
    </div>
  );
}

/** A success, announced politely (role=status). */
export function Success({ children }: { children: ComponentChildren }) {
  return (
    <div class="message message-success" role="status">
      <svg class="message-icon" viewBox="0 0 20 20" aria-hidden="true"><path d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm-1.2 11.4L5.3 9.9l1.3-1.3 2.2 2.2 4.6-4.6 1.3 1.3-5.9 5.9Z" /></svg>
      <div>{children}</div>
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/** What a page shows when there is nothing yet, and what to do about it. */
export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <svg class="empty-icon" viewBox="0 0 48 48" aria-hidden="true">
        <rect x="8" y="10" width="32" height="28" rx="4" />
        <path d="M8 20h32M16 28h10M16 33h16" />
      </svg>
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}
