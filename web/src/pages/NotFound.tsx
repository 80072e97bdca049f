import { Page } from '../components/Page';
import { Link } from '../router';

export function NotFoundPage() {
  return (
    <Page title="Page not found" lead="There is no page at this address.">
      <p><Link href="/" class="button">Go to the start page</Link></p>
    </Page>
  );
}
