import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/Problem";
import { TicketForm } from "../components/TicketForm";
import { describe, mutationProblem, type Problem } from "../errors";
import { money, type CurrencyCode } from "../format";
import { readFragment, type ResultOf } from "../graphql";
import { sendWithRetries, useActionKey } from "../idempotency";
import {
  CreateOrderMutation,
  OrderFields,
  TicketFields,
  TicketQuery,
  UpdateTicketMutation,
  WithdrawTicketMutation,
} from "../operations";
import { Link, navigate, useLocation } from "../router";
import { useSession } from "../session";

type Ticket = ResultOf<typeof TicketFields>;

/** A ticket's state in words. `state` is null when the orders service did not answer. */
export function stateWords(state: Ticket["state"]): string {
  switch (state) {
    case "FOR_SALE":
      return "For sale";
    case "HELD":
      return "Held by a buyer";
    case "SOLD":
      return "Sold";
    case "WITHDRAWN":
      return "Taken off sale";
    case null:
    case undefined:
      return "Not known right now";
    default:
      return "Not for sale"; // a state added to the API after this app was built
  }
}

export function TicketPage({ id }: { id: string }) {
  const { user } = useSession();
  const { search } = useLocation();
  const [result, refetch] = useQuery({ query: TicketQuery, variables: { id } });
  const [problem, setProblem] = useState<Problem | null>(null);

  if (result.error && !result.data?.ticket) {
    return (
      <Page title="Ticket">
        <ProblemMessage problem={describe(result.error, "load")} />
        <p>
          <Link to="/tickets">See the tickets for sale</Link>
        </p>
      </Page>
    );
  }
  if (!result.data?.ticket) {
    return (
      <Page title="Ticket">
        <Loading what="the ticket" />
      </Page>
    );
  }
  const ticket = readFragment(TicketFields, result.data.ticket);
  // "Is this mine?": the ticket's seller is the signed-in user (ids compared as received).
  const mine = Boolean(user && ticket.seller && ticket.seller.id === user.id);
  const reload = () => refetch({ requestPolicy: "network-only" });

  return (
    <Page title={ticket.title}>
      {search.get("listed") && mine && (ticket.state ?? "FOR_SALE") === "FOR_SALE" && (
        <div className="notice notice-success" role="status">
          <p>Your ticket is listed for sale.</p>
        </div>
      )}
      <dl className="facts">
        <dt>Price</dt>
        <dd className="price" data-testid="ticket-price">
          {money(ticket.price)}
        </dd>
        <dt>With fees</dt>
        <dd className="price" data-testid="ticket-all-in">
          {ticket.allInPrice ? `${money(ticket.allInPrice)} incl. fees` : "Fees are shown before you pay"}
        </dd>
        <dt>Status</dt>
        <dd data-testid="ticket-status">{stateWords(ticket.state)}</dd>
      </dl>
      <ProblemMessage problem={problem} />
      {mine ? (
        <SellerActions ticket={ticket} onProblem={setProblem} reload={reload} />
      ) : user === null ? (
        ticket.state === "FOR_SALE" && (
          <p>
            <Link to={`/signin?next=${encodeURIComponent(`/tickets/${ticket.id}`)}`}>Sign in</Link> to buy this
            ticket.
          </p>
        )
      ) : ticket.state === "HELD" ? (
        <p>Someone is buying this ticket. If they do not pay in time, it goes back on sale.</p>
      ) : ticket.state === "SOLD" ? (
        <p>This ticket is sold.</p>
      ) : ticket.state === "WITHDRAWN" ? (
        <p>The seller has taken this ticket off sale.</p>
      ) : (
        user && <BuyButton ticket={ticket} onProblem={setProblem} reload={reload} />
      )}
    </Page>
  );
}

/** Buy: the order's idempotency key is made when the button is shown (IDEM-2). */
function BuyButton({
  ticket,
  onProblem,
  reload,
}: {
  ticket: Ticket;
  onProblem(problem: Problem | null): void;
  reload(): void;
}) {
  const [order, createOrder] = useMutation(CreateOrderMutation);
  const [retrying, setRetrying] = useState(false);
  const key = useActionKey();
  const busy = order.fetching || retrying;

  const buy = async () => {
    onProblem(null);
    setRetrying(true);
    const input = { ticketId: ticket.id, idempotencyKey: key.current() };
    const created = await sendWithRetries(() => createOrder({ input }), (r) => r.data?.createOrder).finally(() =>
      setRetrying(false),
    );
    const payload = created.data?.createOrder;
    const problem = mutationProblem(created, payload, "buy");
    if (payload) key.renew(); // answered: a new click is a new order
    if (problem) {
      onProblem(problem);
      if (problem.code === "CONFLICT" || problem.code === "NOT_FOUND") reload(); // show its state now
      return;
    }
    if (payload?.order) navigate(`/orders/${readFragment(OrderFields, payload.order).id}`);
  };

  return (
    <>
      {ticket.state !== "FOR_SALE" && (
        <p>We cannot tell right now whether this ticket is still for sale; you may try to buy it.</p>
      )}
      <button type="button" className="primary" onClick={buy} disabled={busy} aria-busy={busy}>
        Buy for {money(ticket.allInPrice ?? ticket.price)}
      </button>
    </>
  );
}

/** What the seller may do with their ticket: change it or withdraw it while it is for sale. */
function SellerActions({
  ticket,
  onProblem,
  reload,
}: {
  ticket: Ticket;
  onProblem(problem: Problem | null): void;
  reload(): void;
}) {
  const [, updateTicket] = useMutation(UpdateTicketMutation);
  const [withdrawing, withdrawTicket] = useMutation(WithdrawTicketMutation);
  const [saved, setSaved] = useState(false);

  if (ticket.state === "HELD") return <p>A buyer holds this ticket, so it cannot be changed now.</p>;
  if (ticket.state === "SOLD") return <p>You sold this ticket.</p>;
  if (ticket.state === "WITHDRAWN") return <p>You took this ticket off sale. Buyers no longer see it.</p>;

  // A stale version (another tab changed it first): say so and show the current version.
  const settle = (problem: Problem | null): Problem | null => {
    if (problem?.code === "CONFLICT") {
      onProblem(problem);
      reload();
      return null;
    }
    return problem;
  };

  const withdraw = async () => {
    onProblem(null);
    setSaved(false);
    const input = { id: ticket.id, expectedVersion: ticket.version };
    const done = await sendWithRetries(() => withdrawTicket({ input }), (r) => r.data?.withdrawTicket);
    const problem = settle(mutationProblem(done, done.data?.withdrawTicket, "withdraw"));
    if (problem) onProblem(problem);
  };

  return (
    <section aria-labelledby="edit-heading">
      <h2 id="edit-heading">Change your listing</h2>
      {saved && (
        <div className="notice notice-success" role="status">
          <p>Saved.</p>
        </div>
      )}
      <TicketForm
        key={ticket.version}
        initial={{
          title: ticket.title,
          price: ticket.price.amount,
          currencyCode: ticket.price.currencyCode as CurrencyCode,
        }}
        submitLabel="Save changes"
        onSubmit={async ({ title, price, currencyCode }) => {
          setSaved(false);
          onProblem(null);
          const input = {
            id: ticket.id,
            expectedVersion: ticket.version,
            title,
            price: { amount: price, currencyCode },
          };
          const updated = await sendWithRetries(() => updateTicket({ input }), (r) => r.data?.updateTicket);
          const problem = settle(mutationProblem(updated, updated.data?.updateTicket, "edit"));
          if (!problem && updated.data?.updateTicket?.ticket) setSaved(true);
          return problem;
        }}
      />
      <h2 id="withdraw-heading">Stop selling</h2>
      <p>Take this ticket off sale: buyers no longer see it. This cannot be undone.</p>
      <button type="button" onClick={withdraw} disabled={withdrawing.fetching} aria-busy={withdrawing.fetching}>
        Withdraw this ticket
      </button>
    </section>
  );
}
