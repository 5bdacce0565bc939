// The operators' money page (/admin/money). Its sections are components of their own
// (web/src/app/admin/): disputes here; refunds join it.
import { Disputes } from "../admin/Disputes";
import { Page } from "../components/Page";
import { Link } from "../router";
import { useSession } from "../session";

export function AdminMoneyPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="Money">
        <p>
          <Link to="/signin?next=%2Fadmin%2Fmoney">Sign in</Link> as an operator.
        </p>
      </Page>
    );
  }
  return <Page title="Money">{user && <Disputes />}</Page>;
}
