import { Page } from "../components/Page";
import { Link } from "../router";

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>There is no page at this address.</p>
      <p>
        <Link to="/">Find events</Link> · <Link to="/tickets">See the tickets for sale</Link>
      </p>
    </Page>
  );
}
