import { useId, useState } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps } from "../components/Paged";
import { ProblemMessage } from "../components/Problem";
import { describe, mutationProblem, type Problem } from "../errors";
import { category, eventTime, money } from "../format";
import { readFragment } from "../graphql";
import { sendWithRetries, useActionKey } from "../idempotency";
import { deliveryWords, times, whereSeated, type Listing } from "../listing";
import { CreateOrderMutation, EventQuery, OrderFields } from "../operations";
import type { ResultOf } from "../graphql";
import { Link, navigate, useLocation } from "../router";
import { useSession } from "../session";

const STATUS: Record<string, string> = {
  SCHEDULED: "On sale",
  POSTPONED: "Postponed: new times not known yet",
  RESCHEDULED: "Rescheduled",
  CANCELLED: "Cancelled",
};

export function EventPage({ id }: { id: string }) {
  const { search } = useLocation();
  const [result, refetch] = useQuery({ query: EventQuery, variables: { id, after: null } });
  const [problem, setProblem] = useState<Problem | null>(null);
  const event = result.data?.event;
  if (result.error && !event) {
    return (
      <Page title="Event">
        <ProblemMessage problem={describe(result.error, "load")} />
        <p>
          <Link to="/">Find events</Link>
        </p>
      </Page>
    );
  }
  if (!event) {
    return (
      <Page title="Event">
        <Loading what="the event" />
      </Page>
    );
  }
  // Null only with an error of its own (tickets unreachable): the event shows, without listings.
  const listings = (event.listings?.nodes ?? []).flatMap((node) => (node ? [node] : []));
  const firstPageInfo = event.listings?.pageInfo ?? { hasNextPage: false, endCursor: null };
  const reload = () => refetch({ requestPolicy: "network-only" });
  const onSale = event.status === "SCHEDULED" || event.status === "RESCHEDULED";
  return (
    <Page title={event.name}>
      {search.get("listed") && (
        <div className="notice notice-success" role="status">
          <p>Your tickets are listed for sale.</p>
        </div>
      )}
      <dl className="facts">
        <dt>When</dt>
        <dd>
          <time dateTime={event.startsAt} data-testid="event-time">
            {eventTime(event.startsAt, event.venue.timeZone)}
          </time>
        </dd>
        <dt>Where</dt>
        <dd data-testid="event-venue">
          {event.venue.name}, {event.venue.city}
        </dd>
        {event.performers.length > 0 && (
          <>
            <dt>Performing</dt>
            <dd>{event.performers.map((p) => p.name).join(", ")}</dd>
          </>
        )}
        <dt>Category</dt>
        <dd>{category(event.category)}</dd>
        <dt>Status</dt>
        <dd data-testid="event-status">{STATUS[event.status] ?? event.status}</dd>
      </dl>
      {onSale && (
        <p>
          <Link to={`/events/${event.id}/sell`} className="button">
            Sell tickets
          </Link>
        </p>
      )}
      <h2 id="listings-heading">Tickets for sale</h2>
      <ProblemMessage problem={problem} />
      {listings.length === 0 ? (
        <p>No tickets for this event are for sale right now.</p>
      ) : (
        <ul className="listings" aria-labelledby="listings-heading">
          <Paged
            renderPage={(page) =>
              page.after === null ? (
                <ListingItems listings={listings} pageInfo={firstPageInfo} onMore={page.onMore} onProblem={setProblem} reload={reload} />
              ) : (
                <MoreListings {...page} id={event.id} onProblem={setProblem} />
              )
            }
          />
        </ul>
      )}
    </Page>
  );
}

type EventListings = NonNullable<NonNullable<ResultOf<typeof EventQuery>["event"]>["listings"]>;

/** One page of the event's listings, and on the last page the button that asks for the next. */
function ListingItems({
  listings,
  pageInfo,
  onMore,
  onProblem,
  reload,
}: {
  listings: Listing[];
  pageInfo: EventListings["pageInfo"];
  onMore?: (cursor: string) => void;
  onProblem(problem: Problem | null): void;
  reload(): void;
}) {
  return (
    <>
      {listings.map((listing) => (
        <ListingItem key={listing.id} listing={listing} onProblem={onProblem} reload={reload} />
      ))}
      <MoreItem pageInfo={pageInfo} onMore={onMore} label="Show more tickets" />
    </>
  );
}

/** A page of the event's listings after the first ("Show more tickets"): the event's query from a cursor. */
function MoreListings({ id, after, onMore, onProblem }: PageProps & { id: string; onProblem(problem: Problem | null): void }) {
  const [result, refetch] = useQuery({ query: EventQuery, variables: { id, after } });
  const page = result.data?.event?.listings;
  if (result.error && !page) {
    return (
      <li>
        <ProblemMessage problem={describe(result.error, "load")} />
      </li>
    );
  }
  if (!page) {
    return (
      <li>
        <Loading what="more tickets" />
      </li>
    );
  }
  const listings = page.nodes.flatMap((node) => (node ? [node] : []));
  const reload = () => refetch({ requestPolicy: "network-only" });
  return <ListingItems listings={listings} pageInfo={page.pageInfo} onMore={onMore} onProblem={onProblem} reload={reload} />;
}

/** One listing: where, the price per ticket, how many; and a quantity picker offering exactly allowedQuantities. */
function ListingItem({
  listing,
  onProblem,
  reload,
}: {
  listing: Listing;
  onProblem(problem: Problem | null): void;
  reload(): void;
}) {
  const { user } = useSession();
  const mine = Boolean(user && listing.seller?.id === user.id);
  const here = window.location.pathname;
  return (
    <li className="listing" data-testid="listing">
      <h3>{whereSeated(listing)}</h3>
      <p>
        {/* The all-in price first (fees included, as the buyer will pay it), then the seller's. */}
        <span className="price" data-testid="listing-all-in">
          {money(listing.allInPrice ?? listing.price)}
        </span>{" "}
        per ticket{listing.allInPrice ? " incl. fees" : ""}
        {listing.allInPrice && listing.allInPrice.amount !== listing.price.amount && (
          <> ({money(listing.price)} + fees)</>
        )}{" "}
        · {listing.available} available
        {listing.faceValue && <> · face value {money(listing.faceValue)}</>}
      </p>
      <p className="hint">
        {deliveryWords(listing.deliveryMethod)}
        {listing.notes && <> · {listing.notes}</>}
      </p>
      {mine ? (
        <p>
          Your listing. <Link to="/listings">See your listings</Link>
        </p>
      ) : user === null ? (
        <p>
          <Link to={`/signin?next=${encodeURIComponent(here)}`}>Sign in</Link> to buy these tickets.
        </p>
      ) : user && listing.allowedQuantities.length > 0 ? (
        <BuyListing listing={listing} onProblem={onProblem} reload={reload} />
      ) : null}
    </li>
  );
}

/** Buy: createOrder {listingId, quantity}; its idempotency key made when the picker is shown (IDEM-2). */
function BuyListing({
  listing,
  onProblem,
  reload,
}: {
  listing: Listing;
  onProblem(problem: Problem | null): void;
  reload(): void;
}) {
  const [quantity, setQuantity] = useState(listing.allowedQuantities[0]!);
  const [order, createOrder] = useMutation(CreateOrderMutation);
  const [retrying, setRetrying] = useState(false);
  const key = useActionKey();
  const pickerId = useId();
  const busy = order.fetching || retrying;
  // What the order will charge: the all-in price per ticket times the quantity (payments
  // rounds fees per ticket, so this is its total exactly).
  const each = listing.allInPrice ?? listing.price;
  const total = { amount: times(each.amount, quantity), currencyCode: each.currencyCode };

  const buy = async () => {
    onProblem(null);
    setRetrying(true);
    const input = { listingId: listing.id, quantity, idempotencyKey: key.current() };
    const created = await sendWithRetries(() => createOrder({ input }), (r) => r.data?.createOrder).finally(() =>
      setRetrying(false),
    );
    const payload = created.data?.createOrder;
    const problem = mutationProblem(created, payload, "buy");
    if (payload) key.renew(); // answered: a new click is a new order
    if (problem) {
      onProblem(problem);
      if (problem.code === "CONFLICT" || problem.code === "NOT_FOUND") reload();
      return;
    }
    if (payload?.order) navigate(`/orders/${readFragment(OrderFields, payload.order).id}`);
  };

  return (
    <div className="buy">
      <label htmlFor={pickerId}>Quantity</label>
      <select id={pickerId} value={quantity} onChange={(e) => setQuantity(Number(e.target.value))}>
        {listing.allowedQuantities.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
      <button type="button" className="primary" onClick={buy} disabled={busy} aria-busy={busy}>
        Buy {quantity} for {money(total)}
      </button>
    </div>
  );
}
