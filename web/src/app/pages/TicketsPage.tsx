import { useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps, useFocusOnArrival } from "../components/Paged";
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
function TicketPage({ after, onMore }: PageProps) {
  const [result] = useQuery({ query: TicketsQuery, variables: { first: PAGE_SIZE, after } });
  const first = useFocusOnArrival(Boolean(result.data), after);
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data) return <Loading what="tickets" />;
  if (!result.data.tickets) {
    return <ProblemMessage problem={result.error ? describe(result.error, "load") : null} />;
  }
  const { nodes, pageInfo } = result.data.tickets;
  // An item that could not be read comes back null (with its error): the rest of the page stands.
  const tickets = nodes.flatMap((node) => (node ? [readFragment(TicketFields, node)] : []));
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
          <p className="price">
            {money(ticket.allInPrice ?? ticket.price)}
            {ticket.allInPrice && <span className="hint"> incl. fees</span>}
          </p>
        </li>
      ))}
      <MoreItem pageInfo={pageInfo} onMore={onMore} label="Show more tickets" />
    </>
  );
}

export function TicketsPage() {
  return (
    <Page title="Tickets for sale" wide>
      <ul className="ticket-grid" aria-label="Tickets for sale">
        <Paged renderPage={(page) => <TicketPage {...page} />} />
      </ul>
    </Page>
  );
}
