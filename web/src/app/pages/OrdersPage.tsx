import { useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps, useFocusOnArrival } from "../components/Paged";
import { ProblemMessage } from "../components/Problem";
import { describe } from "../errors";
import { money } from "../format";
import { readFragment } from "../graphql";
import { OrderFields, OrdersQuery, TicketFields } from "../operations";
import { statusText } from "../orderStatus";
import { Link } from "../router";
import { useSession } from "../session";

const PAGE_SIZE = 20;

/** One page of orders; one asked for with "Show older orders" takes the focus when it arrives. */
function OrdersChunk({ after, onMore }: PageProps) {
  const [result] = useQuery({ query: OrdersQuery, variables: { first: PAGE_SIZE, after } });
  const first = useFocusOnArrival(Boolean(result.data), after);
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data) return <Loading what="your orders" />;
  const { edges, pageInfo } = result.data.orders;
  return (
    <>
      {edges.length === 0 && after === null && (
        <p>
          You have no orders yet. <Link to="/">Find a ticket</Link>
        </p>
      )}
      {edges.map((edge, index) => {
        const order = readFragment(OrderFields, edge.node);
        const ticket = readFragment(TicketFields, order.ticket);
        return (
          <li key={order.id} className="order-row">
            <Link to={`/orders/${order.id}`} ref={index === 0 ? first : undefined}>
              {ticket.title}
            </Link>
            <span className="price">{money(ticket.price)}</span>
            <span className={`badge tone-${statusText(order).tone}`}>{statusText(order).label}</span>
          </li>
        );
      })}
      <MoreItem pageInfo={pageInfo} onMore={onMore} label="Show older orders" />
    </>
  );
}

export function OrdersPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="My orders">
        <p>
          <Link to="/signin?next=%2Forders">Sign in</Link> to see your orders.
        </p>
      </Page>
    );
  }
  return (
    <Page title="My orders">
      {user && (
        <ul className="order-list" aria-label="Your orders">
          <Paged renderPage={(page) => <OrdersChunk {...page} />} />
        </ul>
      )}
    </Page>
  );
}
