// The shell: asks the server who is signed in, shows the sign-in page or the
// navigation and the page the address names.

import { useEffect, useState } from 'preact/hooks';
import * as api from './api';
import { Loading } from './components/Messages';
import { Link, navigate, useLocation, type Location } from './router';
import type { Session } from './types';
import { SignInPage } from './pages/SignIn';
import { DashboardPage } from './pages/Dashboard';
import { ReferralsPage } from './pages/Referrals';
import { ProfilePage } from './pages/Profile';
import { BulkUpdatePage } from './pages/BulkUpdate';
import { QualifyPage } from './pages/Qualify';
import { CampaignsPage } from './pages/Campaigns';
import { RewardsPage } from './pages/Rewards';
import { NotFoundPage } from './pages/NotFound';
import { BrandMark } from './components/BrandMark';

const NAV = [
  { href: '/', label: 'Dashboard' },
  { href: '/referrals', label: 'Referrals' },
  { href: '/bulk-update', label: 'Bulk update' },
  { href: '/qualify', label: 'Qualify' },
  { href: '/campaigns', label: 'Campaigns' },
  { href: '/rewards', label: 'Rewards' },
];

function routeFor(location: Location) {
  const { path } = location;
  const profile = /^\/referrals\/(\d+)\/?$/.exec(path);
  if (profile) return <ProfilePage key={profile[1]} id={Number(profile[1])} />;
  switch (path.replace(/\/+$/, '') || '/') {
    case '/': return <DashboardPage />;
    case '/referrals': return <ReferralsPage query={location.query} />;
    case '/bulk-update': return <BulkUpdatePage />;
    case '/qualify': return <QualifyPage />;
    case '/campaigns': return <CampaignsPage />;
    case '/rewards': return <RewardsPage query={location.query} />;
    default: return <NotFoundPage />;
  }
}

function isCurrent(href: string, path: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const location = useLocation();
  const page = routeFor(location);
  return (
    <div class="shell">
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link href="/" class="brand" aria-label="reftrack home">
            <BrandMark />
            <span>reftrack</span>
          </Link>
          <nav class="nav" aria-label="Main">
            <ul>
              {NAV.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={isCurrent(item.href, location.path) ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
            <div class="account">
              <span class="account-email" title="Signed in">{session.email}</span>
              <button type="button" class="button button-quiet button-small" onClick={onSignOut}>Sign out</button>
            </div>
          </nav>
        </div>
      </header>
      <main id="main" class="content">{page}</main>
    </div>
  );
}

export function App() {
  // undefined: still asking the server; null: nobody is signed in.
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  useEffect(() => {
    api.onUnauthorized(() => setSession(null));
    api.getSession().then(
      (s) => {
        api.setCsrfToken(s.csrf_token);
        setSession(s);
      },
      () => setSession(null),
    );
  }, []);

  const signedIn = (s: Session) => {
    api.setCsrfToken(s.csrf_token);
    setSession(s);
  };

  const signOut = async () => {
    try {
      await api.signOut();
    } catch {
      // Already gone on the server: sign out here all the same.
    }
    api.setCsrfToken('');
    setSession(null);
    navigate('/');
  };

  if (session === undefined) {
    return <div class="boot"><Loading /></div>;
  }
  if (session === null) return <SignInPage onSignedIn={signedIn} />;
  return <Shell session={session} onSignOut={signOut} />;
}
