import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api';
import { Alert } from '../components/Messages';
import { useTitle } from '../hooks';
import type { Session } from '../types';
import { BrandMark } from '../components/BrandMark';

export function SignInPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  useTitle('Sign in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const emailField = useRef<HTMLInputElement>(null);
  useEffect(() => emailField.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.signIn(email.trim(), password));
    } catch (err) {
      setError(api.errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <div class="signin-card">
        <div class="signin-brand">
          <BrandMark />
          <span>reftrack</span>
        </div>
        <h1>Sign in</h1>
        <p class="muted">Track your referral programs: statuses, bulk updates and rewards.</p>
        <form class="stack" onSubmit={submit}>
          {error && <Alert>{error}</Alert>}
          <div class="field">
            <label for="signin-email">Email</label>
            <input
              id="signin-email" ref={emailField} type="email" autocomplete="username" required
              value={email} onInput={(e) => setEmail(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="signin-password">Password</label>
            <input
              id="signin-password" type="password" autocomplete="current-password" required
              value={password} onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </div>
          <button type="submit" class="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p class="hint">
          First start? <code>reftrack serve</code> printed the password of <code>admin@localhost</code>.
          Add people with <code>reftrack user add EMAIL</code>.
        </p>
      </div>
    </main>
  );
}
