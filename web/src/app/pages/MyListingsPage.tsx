import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps } from "../components/Paged";
import { ProblemMessage } from "../components/Problem";
import { describe, mutationProblem, type Problem } from "../errors";
import { eventTime, money } from "../format";
import { sendWithRetries } from "../idempotency";
import type { ResultOf } from "../graphql";
import { listingStateWords, whereSeated } from "../listing";
import { MyListingsQuery, WithdrawListingMutation } from "../operations";
import { Link } from "../router";
import { useSession } from "../session";

export function MyListingsPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="My listings">
        <p>
          <Link to="/signin?next=%2Flistings">Sign in</Link> to see your listings.
        </p>
      </Page>
    );
  }
  return (
    <Page title="My listings" wide>
      {user === undefined ? (
        <Loading what="your listings" />
      ) : (
        <ul className="my-listings" aria-label="Your listings">
          <Paged renderPage={(page) => <ListingsPage {...page} />} />
        </ul>
      )}
    </Page>
  );
}

function ListingsPage({ after, onMore }: PageProps) {
  const [result, refetch] = useQuery({ query: MyListingsQuery, variables: { after } });
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data) return <Loading what="your listings" />;
  const page = result.data.myListings;
  // Null only with an error of its own (tickets unreachable).
  if (!page) return result.error ? <ProblemMessage problem={describe(result.error, "load")} /> : <Loading what="your listings" />;
  const { nodes, pageInfo } = page;
  const listings = nodes.flatMap((node) => (node ? [node] : []));
  const reload = () => refetch({ requestPolicy: "network-only" });
  return (
    <>
      {listings.length === 0 && after === null && (
        <li className="empty">
          You have not listed anything yet. <Link to="/">Find an event</Link> and sell tickets from its page.
        </li>
      )}
      {listings.map((listing) => (
        <MyListing key={listing.id} listing={listing} reload={reload} />
      ))}
      <MoreItem pageInfo={pageInfo} onMore={onMore} label="Show more listings" />
    </>
  );
}

type Mine = NonNullable<NonNullable<ResultOf<typeof MyListingsQuery>["myListings"]>["nodes"][number]>;

/** One of the seller's listings: its event, seats, how many are left, its state; Withdraw while seats are for sale. */
function MyListing({ listing, reload }: { listing: Mine; reload(): void }) {
  const [withdrawing, withdrawListing] = useMutation(WithdrawListingMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const event = listing.event;

  const withdraw = async () => {
    setProblem(null);
    const input = { id: listing.id, expectedVersion: listing.version };
    const done = await sendWithRetries(() => withdrawListing({ input }), (r) => r.data?.withdrawListing);
    const refused = mutationProblem(done, done.data?.withdrawListing, "withdraw");
    if (refused) {
      setProblem(refused);
      if (refused.code === "CONFLICT") reload(); // moved on: show it as it is now
    }
  };

  return (
    <li className="listing" data-testid="my-listing">
      <h2>{event ? <Link to={`/events/${event.id}`}>{event.name}</Link> : "A ticket listed without an event"}</h2>
      {event && (
        <p>
          {event.venue.name}, {event.venue.city} · {eventTime(event.startsAt, event.venue.timeZone)}
        </p>
      )}
      <p>
        {whereSeated(listing)} · <span className="price">{money(listing.price)}</span> per ticket
      </p>
      <p>
        <span data-testid="listing-quantity">{listing.quantity} listed</span> ·{" "}
        <span data-testid="listing-available">{listing.available} available</span> ·{" "}
        <strong data-testid="listing-state">{listingStateWords(listing)}</strong>
      </p>
      <ProblemMessage problem={problem} />
      {listing.available > 0 && listing.state === "FOR_SALE" && (
        <button type="button" onClick={withdraw} disabled={withdrawing.fetching} aria-busy={withdrawing.fetching}>
          Withdraw
        </button>
      )}
    </li>
  );
}
