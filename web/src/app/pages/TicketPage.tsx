import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/Problem";
import { TicketForm } from "../components/TicketForm";
import { describe, type Problem } from "../errors";
import { money } from "../format";
import { readFragment } from "../graphql";
import { CreateOrderMutation, TicketFields, TicketQuery, UpdateTicketMutation } from "../operations";
import { Link, navigate, useLocation } from "../router";
import { useSession } from "../session";

export function TicketPage({ id }: { id: string }) {
  const { user } = useSession();
  const { search } = useLocation();
  const [result] = useQuery({ query: TicketQuery, variables: { id } });
  const [order, createOrder] = useMutation(CreateOrderMutation);
  const [, updateTicket] = useMutation(UpdateTicketMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);

  if (result.error && !result.data?.ticket) {
    return (
      <Page title="Ticket">
        <ProblemMessage problem={describe(result.error, "load")} />
        <p>
          <Link to="/">See the tickets for sale</Link>
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
  const mine = user?.id === ticket.userId;

  const buy = async () => {
    setProblem(null);
    const created = await createOrder({ ticketId: ticket.id });
    if (created.error) setProblem(describe(created.error, "buy"));
    else if (created.data) navigate(`/orders/${created.data.createOrder.id}`);
  };

  return (
    <Page title={ticket.title}>
      {search.get("listed") && mine && (
        <div className="notice notice-success" role="status">
          <p>Your ticket is listed for sale.</p>
        </div>
      )}
      <dl className="facts">
        <dt>Price</dt>
        <dd className="price" data-testid="ticket-price">
          {money(ticket.price)}
        </dd>
        <dt>Status</dt>
        <dd data-testid="ticket-status">{ticket.reserved ? "Reserved by a buyer" : "For sale"}</dd>
      </dl>
      <ProblemMessage problem={problem} />
      {mine ? (
        <section aria-labelledby="edit-heading">
          <h2 id="edit-heading">Change your listing</h2>
          {ticket.reserved ? (
            <p>A buyer holds this ticket, so it cannot be changed now.</p>
          ) : (
            <>
              {saved && (
                <div className="notice notice-success" role="status">
                  <p>Saved.</p>
                </div>
              )}
              <TicketForm
                key={ticket.version}
                initial={{ title: ticket.title, price: ticket.price }}
                submitLabel="Save changes"
                onSubmit={async (values) => {
                  setSaved(false);
                  const updated = await updateTicket({ id: ticket.id, ...values });
                  if (updated.error) return describe(updated.error, "edit");
                  setSaved(true);
                  return null;
                }}
              />
            </>
          )}
        </section>
      ) : user === null ? (
        <p>
          <Link to={`/signin?next=${encodeURIComponent(`/tickets/${ticket.id}`)}`}>Sign in</Link> to buy this
          ticket.
        </p>
      ) : ticket.reserved ? (
        <p>Someone is buying this ticket. If they do not pay in time, it goes back on sale.</p>
      ) : (
        user && (
          <button type="button" className="primary" onClick={buy} disabled={order.fetching} aria-busy={order.fetching}>
            Buy for {money(ticket.price)}
          </button>
        )
      )}
    </Page>
  );
}
