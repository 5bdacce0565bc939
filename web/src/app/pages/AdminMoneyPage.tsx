// /admin/money: the admins' money page, a thin container of its sections, each a component of
// its own (web/src/app/admin/): refunds and disputes.
import { Disputes } from "../admin/Disputes";
import { Refunds } from "../admin/Refunds";
import { Page } from "../components/Page";
import { Link } from "../router";
import { useSession } from "../session";

export function AdminMoneyPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="Money">
        <p>
          <Link to={`/signin?next=${encodeURIComponent("/admin/money")}`}>Sign in</Link> as an admin to see this page.
        </p>
      </Page>
    );
  }
  return (
    <Page title="Money" wide>
      <Refunds />
      <Disputes />
    </Page>
  );
}
