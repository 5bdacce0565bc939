import { useEffect, useRef, useState, type ReactNode } from "react";
import { useMutation, useQuery } from "urql";
import { CardPayment, ConfirmWithBank, type PaymentOutcome } from "../components/CardPayment";
import { Countdown, useNow } from "../components/Countdown";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/Problem";
import { mutationProblem, describe, type Problem } from "../errors";
import { money } from "../format";
import { readFragment, type ResultOf } from "../graphql";
import { sendWithRetries } from "../idempotency";
import {
  CancelOrderMutation,
  OrderDeliveryFields,
  OrderFields,
  OrderPassesFields,
  OrderQuery,
  OrderRefundsFields,
  OrderSeatsFields,
  TicketFields,
} from "../operations";
import { OrderDelivery } from "../components/OrderDelivery";
import { OrderPasses } from "../components/Passes";
import { OrderRefunds } from "../components/OrderRefunds";
import { statusText } from "../orderStatus";
import { Link } from "../router";
import { useSession } from "../session";
import { useLiveOrder } from "../liveOrder";
import { whereSeated } from "../listing";

type Order = ResultOf<typeof OrderFields>;

export function OrderPage({ id }: { id: string }) {
  const { user } = useSession();
  const [result] = useQuery({ query: OrderQuery, variables: { id }, pause: !user });
  const fetched = result.data?.order ? readFragment(OrderFields, result.data.order) : null;
  const order = useLiveOrder(id, fetched, Boolean(user));

  if (user === null) {
    return (
      <Page title="Order">
        <p>
          <Link to={`/signin?next=${encodeURIComponent(`/orders/${id}`)}`}>Sign in</Link> to see this order.
        </p>
      </Page>
    );
  }
  if (result.error && !order) {
    return (
      <Page title="Order">
        <ProblemMessage problem={describe(result.error, "load")} />
        <p>
          <Link to="/orders">Your orders</Link>
        </p>
      </Page>
    );
  }
  if (!order) {
    return (
      <Page title="Order">
        <Loading what="your order" />
      </Page>
    );
  }
  const seated = result.data?.order ? readFragment(OrderSeatsFields, result.data.order) : null;
  const refunds = result.data?.order ? (readFragment(OrderRefundsFields, result.data.order).refunds ?? []) : [];
  const delivery = result.data?.order ? (readFragment(OrderDeliveryFields, result.data.order).delivery ?? null) : null;
  const passes = result.data?.order ? (readFragment(OrderPassesFields, result.data.order).passes ?? []) : [];
  return (
    <OrderView order={order} seated={seated}>
      <OrderDelivery delivery={delivery} />
      <OrderPasses passes={passes} />
      <OrderRefunds orderId={order.id} orderStatus={order.status} refunds={refunds} />
    </OrderView>
  );
}

type Seated = ResultOf<typeof OrderSeatsFields>;

function OrderView({
  order,
  seated: detail,
  children,
}: {
  order: Order;
  seated: Seated | null;
  children?: ReactNode;
}) {
  // The order's ticket is read from the tickets service: null (with an error) when it did not answer.
  const ticket = order.ticket ? readFragment(TicketFields, order.ticket) : null;
  // An order of a listing of an event is named by its event; a v1 ticket's by its title.
  const event = detail?.listing?.event ?? null;
  const title = event?.name ?? ticket?.title ?? "a ticket";
  const seated = detail?.listing ? whereSeated({ ...detail.listing, seats: detail.seats }) : null;
  const status = statusText(order);
  // After paying, the total is what was charged (the payment's amount, fees included).
  const paid = order.payment?.status === "SUCCEEDED";
  const deadline = Date.parse(order.expiresAt);
  const now = useNow(1000, order.status === "CREATED");
  const timeUp = order.status === "CREATED" && now >= deadline;
  const [cancelling, cancelOrder] = useMutation(CancelOrderMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [payment, setPayment] = useState<PaymentOutcome>({ problem: null, note: "" });
  const tried = payment.pending || payment.note !== "" || payment.problem !== null;
  // The live region says the status when it changes (not when the page first shows it: the
  // heading and the status box say it then).
  const [announced, setAnnounced] = useState("");
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else setAnnounced(`Order ${status.label.toLowerCase()}. ${status.detail}`);
  }, [status.label, status.detail]);

  const cancel = async () => {
    setProblem(null);
    const input = { id: order.id };
    const done = await sendWithRetries(() => cancelOrder({ input }), (r) => r.data?.cancelOrder);
    setProblem(mutationProblem(done, done.data?.cancelOrder, "cancel"));
  };

  return (
    <Page title={`Order for ${title}`}>
      <div className={`order-status tone-${status.tone}`}>
        <p>
          <span className="status-label" data-testid="order-status">
            {timeUp ? "Time is up" : status.label}
          </span>
        </p>
        <p className="status-detail">{timeUp ? "Releasing the ticket…" : status.detail}</p>
        {order.status === "CREATED" && !timeUp && (
          <p>
            Pay within <Countdown deadline={deadline} now={now} />
          </p>
        )}
      </div>
      <div className="visually-hidden" role="status" aria-live="polite">
        {announced}
      </div>
      <dl className="facts">
        {event ? (
          <>
            <dt>Event</dt>
            <dd>
              <Link to={`/events/${event.id}`}>{event.name}</Link>
            </dd>
            <dt>Seats</dt>
            <dd data-testid="order-seats">{seated}</dd>
          </>
        ) : (
          <>
        <dt>Ticket</dt>
        <dd>
          {ticket ? (
            <Link to={`/tickets/${ticket.id}`}>{ticket.title}</Link>
          ) : (
            "Its details are not available right now."
          )}
        </dd>
          </>
        )}
        <dt>Quantity</dt>
        <dd data-testid="order-quantity">
          {order.quantity} {order.quantity === 1 ? "ticket" : "tickets"}
        </dd>
        <dt>Price</dt>
        <dd className="price">{money(order.price)}{order.quantity > 1 && " each"}</dd>
        {order.charges ? (
          <>
            <dt>Subtotal</dt>
            <dd className="price" data-testid="order-subtotal">
              {money(order.charges.subtotal)}
            </dd>
            <dt>Fees</dt>
            <dd className="price" data-testid="order-fees">
              {money(order.charges.buyerFees)}
            </dd>
            <dt>{paid ? "Total paid" : "Total"}</dt>
            <dd className="price" data-testid="order-total">
              {money(paid ? order.payment!.amount : order.charges.total)}
            </dd>
          </>
        ) : (
          <>
            <dt>{paid ? "Total paid" : "Total"}</dt>
            <dd className="price" data-testid="order-total">
              {paid ? money(order.payment!.amount) : "Not available right now"}
            </dd>
          </>
        )}
        {order.payment && (
          <>
            <dt>Payment</dt>
            <dd>{paymentWords(order.payment.status)}</dd>
          </>
        )}
        {order.payment?.disputeStatus && (
          <>
            <dt>Dispute</dt>
            <dd data-testid="order-dispute">{disputeWords(order.payment.disputeStatus)}</dd>
          </>
        )}
      </dl>
      <ProblemMessage problem={problem ?? payment.problem} />
      {payment.note && !payment.problem && order.status !== "COMPLETE" && (
        <p className="notice" role="status">
          {payment.note}
        </p>
      )}
      {/* Back on the page of a payment the bank still waits for (this visit has not tried). */}
      {status.open && !timeUp && !tried && order.payment?.status === "REQUIRES_ACTION" && order.payment.clientSecret && (
        <ConfirmWithBank clientSecret={order.payment.clientSecret} onOutcome={setPayment} />
      )}
      {order.status === "CREATED" && !timeUp && order.payment?.status !== "REQUIRES_ACTION" && (
        <>
          <CardPayment orderId={order.id} amount={order.charges?.total ?? null} disabled={timeUp} onOutcome={setPayment} />
          <p>
            <button type="button" className="link-button" onClick={cancel} disabled={cancelling.fetching}>
              Cancel this order
            </button>
          </p>
        </>
      )}
      {order.status === "CANCELLED" && event && (
        <p>
          <Link to={`/events/${event.id}`}>See the event's tickets</Link> · <Link to="/">Other events</Link>
        </p>
      )}
      {order.status === "CANCELLED" && !event && ticket && (
        <p>
          <Link to={`/tickets/${ticket.id}`}>
            {order.cancelReason === "PAYMENT_FAILED" ? "Order this ticket again" : "See the ticket"}
          </Link>{" "}
          · <Link to="/tickets">Other tickets</Link>
        </p>
      )}
      {children}
      {order.status === "COMPLETE" && (
        <p>
          <Link to="/orders">All your orders</Link>
        </p>
      )}
    </Page>
  );
}

function paymentWords(status: string): string {
  switch (status) {
    case "SUCCEEDED":
      return "Paid by card";
    case "PROCESSING":
      return "Being processed by your bank";
    case "REQUIRES_ACTION":
      return "Waiting for you to confirm with your bank";
    case "FAILED":
      return "Declined, nothing charged";
    case "REFUNDED":
      return "Refunded";
    default:
      return status;
  }
}

/** What a buyer reads of the dispute their bank opened on this order's payment. */
function disputeWords(status: string): string {
  switch (status) {
    case "WON":
      return "Disputed with your bank; decided for the seller.";
    case "LOST":
      return "Disputed with your bank; decided in your favour.";
    case "WARNING_CLOSED":
      return "Your bank's inquiry is closed.";
    default:
      return "Disputed with your bank: the card network is deciding.";
  }
}
