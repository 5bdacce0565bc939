import { useEffect, useRef, useState } from "react";
import { useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/Problem";
import { describe } from "../errors";
import { money } from "../format";
import { readFragment } from "../graphql";
import { TicketFields, TicketsQuery } from "../operations";
import { Link } from "../router";

const PAGE_SIZE = 12;

/**
 * One page of tickets; the last page offers the next one. A page asked for with "Show more"
 * takes the focus to its first ticket when it arrives (the button it replaces is gone).
 */
function TicketPage({ after, onMore }: { after: string | null; onMore?: (cursor: string) => void }) {
  const [result] = useQuery({ query: TicketsQuery, variables: { first: PAGE_SIZE, after } });
  const first = useRef<HTMLAnchorElement>(null);
  const arrived = Boolean(result.data);
  useEffect(() => {
    if (arrived && after !== null) first.current?.focus();
  }, [arrived, after]);
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data) return <Loading what="tickets" />;
  const { edges, pageInfo } = result.data.tickets;
  const tickets = edges.map((edge) => readFragment(TicketFields, edge.node));
  return (
    <>
      {tickets.length === 0 && after === null && (
        <p>
          Nothing is for sale right now. <Link to="/sell">Sell a ticket</Link>
        </p>
      )}
      {tickets.map((ticket, index) => (
        <li key={ticket.id} className="ticket-card">
          <h2>
            <Link to={`/tickets/${ticket.id}`} ref={index === 0 ? first : undefined}>
              {ticket.title}
            </Link>
          </h2>
          <p className="price">{money(ticket.price)}</p>
        </li>
      ))}
      {onMore && pageInfo.hasNextPage && pageInfo.endCursor && (
        <li className="more">
          <button type="button" onClick={() => onMore(pageInfo.endCursor!)}>
            Show more tickets
          </button>
        </li>
      )}
    </>
  );
}

export function TicketsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return (
    <Page title="Tickets for sale" wide>
      <ul className="ticket-grid" aria-label="Tickets for sale">
        {cursors.map((after, index) => (
          <TicketPage
            key={after ?? "first"}
            after={after}
            onMore={index === cursors.length - 1 ? (cursor) => setCursors([...cursors, cursor]) : undefined}
          />
        ))}
      </ul>
    </Page>
  );
}
