// An order as it changes: the fetched one, then each newer version the gateway pushes over the
// orderUpdated subscription (graphql-ws). Should the subscription fail (a proxy that drops
// WebSockets, say), the order is read again every few seconds instead while it is open.
import { useEffect, useState } from "react";
import { useQuery, useSubscription } from "urql";
import { readFragment, type ResultOf } from "./graphql";
import { OrderFields, OrderQuery, OrderUpdatedSubscription } from "./operations";

type Order = ResultOf<typeof OrderFields>;

const OPEN = new Set(["CREATED", "AWAITING_PAYMENT"]);
const POLL_MS = 3000;

function newer(old: Order | null, next: Order | null): Order | null {
  if (!next) return old;
  return !old || next.version >= old.version ? next : old;
}

export function useLiveOrder(id: string, fetched: Order | null, signedIn: boolean): Order | null {
  const [latest, setLatest] = useState<Order | null>(null);
  const [pushed] = useSubscription({ query: OrderUpdatedSubscription, variables: { id }, pause: !signedIn });
  useEffect(() => {
    const order = pushed.data?.orderUpdated ? readFragment(OrderFields, pushed.data.orderUpdated) : null;
    setLatest((old) => newer(old, order));
  }, [pushed.data]);

  const current = newer(fetched, latest);
  const polling = Boolean(pushed.error) && current !== null && OPEN.has(current.status);
  const [polled, poll] = useQuery({ query: OrderQuery, variables: { id }, pause: true, requestPolicy: "network-only" });
  useEffect(() => {
    if (!polling) return;
    const timer = window.setInterval(() => poll({ requestPolicy: "network-only" }), POLL_MS);
    return () => window.clearInterval(timer);
  }, [polling, poll]);
  useEffect(() => {
    const order = polled.data?.order ? readFragment(OrderFields, polled.data.order) : null;
    setLatest((old) => newer(old, order));
  }, [polled.data]);
  return current;
}
