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
  if (!result.data.orders) {
    return <ProblemMessage problem={result.error ? describe(result.error, "load") : null} />;
  }
  const { nodes, pageInfo } = result.data.orders;
  return (
    <>
      {nodes.length === 0 && after === null && (
        <p>
          You have no orders yet. <Link to="/">Find a ticket</Link>
        </p>
      )}
      {nodes.map((node, index) => {
        if (!node) {
          // This order alone could not be read (its error says why); the page stands.
          return (
            <li key={`missing-${index}`} className="order-row">
              <span>This order cannot be shown right now.</span>
            </li>
          );
        }
        const order = readFragment(OrderFields, node);
        const ticket = order.ticket ? readFragment(TicketFields, order.ticket) : null;
        return (
          <li key={order.id} className="order-row">
            <Link to={`/orders/${order.id}`} ref={index === 0 ? first : undefined}>
              {ticket?.title ?? "A ticket (its details are not available right now)"}
            </Link>
            {/* What the buyer pays in all, fees included (the price alone if it cannot be read now). */}
            <span className="price">{money(order.charges?.total ?? order.price)}</span>
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
