import { useQuery } from "urql";
import { describe } from "../errors";
import { money } from "../format";
import type { ResultOf } from "../graphql";
import { whereSeated } from "../listing";
import { MyPayoutsQuery } from "../operations";
import { payoutWords } from "../payouts";
import { Link } from "../router";
import { Loading } from "./Loading";
import { MoreItem, Paged, type PageProps } from "./Paged";
import { ProblemMessage } from "./Problem";

/**
 * The seller's payouts, newest first: what each sold order pays them and where it stands
 * ("Scheduled for …", "Waiting for you to set up payouts", "Paid on …").
 */
export function SellerPayouts() {
  return (
    <section className="seller-payouts" aria-labelledby="payouts-heading">
      <h2 id="payouts-heading">Payouts</h2>
      <ul className="payouts" aria-label="Your payouts">
        <Paged renderPage={(page) => <PayoutsPage {...page} />} />
      </ul>
    </section>
  );
}

function PayoutsPage({ after, onMore }: PageProps) {
  const [result] = useQuery({ query: MyPayoutsQuery, variables: { after } });
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data) return <Loading what="your payouts" />;
  const page = result.data.payouts;
  // Null only with an error of its own (payments unreachable).
  if (!page) return result.error ? <ProblemMessage problem={describe(result.error, "load")} /> : <Loading what="your payouts" />;
  const payouts = page.nodes.flatMap((node) => (node ? [node] : []));
  return (
    <>
      {payouts.length === 0 && after === null && (
        <li className="empty">No payouts yet: when a buyer pays for your tickets, what you are paid shows here.</li>
      )}
      {payouts.map((payout) => (
        <PayoutItem key={payout.id} payout={payout} />
      ))}
      <MoreItem pageInfo={page.pageInfo} onMore={onMore} label="Show more payouts" />
    </>
  );
}

type Payout = NonNullable<NonNullable<ResultOf<typeof MyPayoutsQuery>["payouts"]>["nodes"][number]>;

function PayoutItem({ payout }: { payout: Payout }) {
  const listing = payout.listing;
  const event = listing?.event;
  return (
    <li className="payout" data-testid="payout">
      <p>
        <span className="price">{money(payout.amount)}</span> ·{" "}
        <strong data-testid="payout-status">{payoutWords(payout)}</strong>
      </p>
      <p>
        {event ? <Link to={`/events/${event.id}`}>{event.name}</Link> : "A ticket sold"}
        {listing && <> · {whereSeated(listing)}</>}
      </p>
      {payout.status === "WAITING_FOR_ONBOARDING" && (
        <p className="hint">Set up payouts with Stripe to be paid for this sale.</p>
      )}
    </li>
  );
}
