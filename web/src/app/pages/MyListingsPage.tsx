import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { SellerPayouts } from "../components/SellerPayouts";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps } from "../components/Paged";
import { ProblemMessage } from "../components/Problem";
import { SellerProceeds } from "../components/SellerProceeds";
import { describe, mutationProblem, type Problem } from "../errors";
import { eventTime, money, type CurrencyCode } from "../format";
import { sendWithRetries } from "../idempotency";
import type { ResultOf } from "../graphql";
import { listingStateWords, whereSeated } from "../listing";
import { MyListingsQuery, UpdateListingMutation, WithdrawListingMutation } from "../operations";
import { priceProblem, priceValue } from "../price";
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
        <>
          <ul className="my-listings" aria-label="Your listings">
            <Paged renderPage={(page) => <ListingsPage {...page} />} />
          </ul>
          <SellerPayouts />
        </>
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

/**
 * One of the seller's listings: its event, seats, how many are left, its state; Edit (price and
 * quantity) and Withdraw while seats are for sale.
 */
function MyListing({ listing, reload }: { listing: Mine; reload(): void }) {
  const [withdrawing, withdrawListing] = useMutation(WithdrawListingMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [editing, setEditing] = useState(false);
  const event = listing.event;
  const forSale = listing.available > 0 && listing.state === "FOR_SALE";

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
      {forSale && editing && <EditListing listing={listing} reload={reload} onDone={() => setEditing(false)} />}
      {forSale && !editing && (
        <p className="actions">
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>{" "}
          <button type="button" onClick={withdraw} disabled={withdrawing.fetching} aria-busy={withdrawing.fetching}>
            Withdraw
          </button>
        </p>
      )}
    </li>
  );
}

type EditMistakes = Partial<Record<"price" | "quantity", string>>;

/**
 * The listing's price per ticket and quantity, changed by updateListing (only what changed is
 * sent); a refusal about one of them (a price out of range, a quantity below the seats held or
 * sold) shows beside it, any other above the form.
 */
function EditListing({ listing, reload, onDone }: { listing: Mine; reload(): void; onDone(): void }) {
  const [updating, updateListing] = useMutation(UpdateListingMutation);
  const [price, setPrice] = useState(listing.price.amount);
  const [quantity, setQuantity] = useState(String(listing.quantity));
  const [checked, setChecked] = useState<EditMistakes>({});
  const [problem, setProblem] = useState<Problem | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const count = Number(quantity);
    const mistakes: EditMistakes = {
      price: priceProblem(price),
      quantity: Number.isInteger(count) && count >= 1 && count <= 100 ? undefined : "Enter how many tickets, 1 to 100.",
    };
    setChecked(mistakes);
    setProblem(null);
    if (Object.values(mistakes).some(Boolean)) return;
    const newPrice = priceValue(price);
    const input = {
      id: listing.id,
      expectedVersion: listing.version,
      price: Number(newPrice) !== Number(listing.price.amount) ? { amount: newPrice, currencyCode: listing.price.currencyCode } : null,
      quantity: count !== listing.quantity ? count : null,
    };
    if (input.price === null && input.quantity === null) return onDone(); // nothing changed
    const done = await sendWithRetries(() => updateListing({ input }), (r) => r.data?.updateListing);
    const refused = mutationProblem(done, done.data?.updateListing, "editListing");
    if (!refused) return onDone();
    setProblem(refused);
    if (refused.code === "CONFLICT" && refused.field === "expectedVersion") reload(); // moved on: show it as it is now
  };

  const errorFor = (name: keyof EditMistakes) => checked[name] ?? (problem?.field === name ? problem.message : undefined);
  const own = problem && problem.field !== "price" && problem.field !== "quantity" ? problem : null;
  return (
    <form className="edit-listing" onSubmit={submit} noValidate aria-label="Edit the listing">
      <ProblemMessage problem={own} />
      <Field
        label={`Price per ticket (${listing.price.currencyCode})`}
        name="price"
        inputMode="decimal"
        autoComplete="off"
        value={price}
        onChange={(e) => setPrice(e.target.value)}
        error={errorFor("price")}
      />
      <SellerProceeds price={price} currencyCode={listing.price.currencyCode as CurrencyCode} eventId={listing.event?.id} />
      <Field
        label="Quantity"
        name="quantity"
        inputMode="numeric"
        hint="Seats listed in all, those held or sold included"
        value={quantity}
        onChange={(e) => setQuantity(e.target.value)}
        error={errorFor("quantity")}
      />
      <p className="actions">
        <button type="submit" className="primary" disabled={updating.fetching} aria-busy={updating.fetching}>
          Save
        </button>{" "}
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </p>
    </form>
  );
}
