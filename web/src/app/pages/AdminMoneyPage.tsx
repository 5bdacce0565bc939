// /admin/money: the admins' money page, a thin container of its sections (refunds here;
// disputes join it as a section of their own).
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
    </Page>
  );
}
