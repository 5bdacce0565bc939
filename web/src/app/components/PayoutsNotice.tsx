import { useQuery } from "urql";
import { SellerAccountQuery } from "../operations";
import { Link } from "../router";

/**
 * On the sell forms: listing works before the seller has set up payouts, but their money waits
 * for it. Says nothing once they can be paid (or while it is not known yet).
 */
export function PayoutsNotice() {
  const [result] = useQuery({ query: SellerAccountQuery });
  const account = result.data?.currentUser?.sellerAccount;
  if (!account || account.canReceivePayouts) return null;
  return (
    <div className="notice" data-testid="payouts-notice">
      <p>
        You can list tickets now. What you sell is paid out to you once you have set up payouts with our payment
        processor, Stripe: until then, your money waits for you.
      </p>
      <p>
        <Link to="/payouts">{account.status === "NOT_ONBOARDED" ? "Set up payouts" : "See what is still needed"}</Link>
      </p>
    </div>
  );
}
