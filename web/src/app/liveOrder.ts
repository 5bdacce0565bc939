// An order as it changes: the fetched one, then each newer version the server pushes.
import { useEffect, useState } from "react";
import { useQuery } from "urql";
import { readFragment, type ResultOf } from "./graphql";
import { OrderFields, OrderQuery } from "./operations";

type Order = ResultOf<typeof OrderFields>;

const OPEN = new Set(["CREATED", "AWAITING_PAYMENT"]);
const POLL_MS = 2000;

export function useLiveOrder(id: string, fetched: Order | null): Order | null {
  const [latest, setLatest] = useState<Order | null>(null);
  const open = fetched ? OPEN.has(fetched.status) : false;
  const [polled, poll] = useQuery({ query: OrderQuery, variables: { id }, pause: true, requestPolicy: "network-only" });
  useEffect(() => {
    if (!open) return;
    const timer = window.setInterval(() => poll({ requestPolicy: "network-only" }), POLL_MS);
    return () => window.clearInterval(timer);
  }, [open, poll]);
  useEffect(() => {
    const pushed = polled.data?.order ? readFragment(OrderFields, polled.data.order) : null;
    if (pushed) setLatest((old) => (!old || pushed.version >= old.version ? pushed : old));
  }, [polled.data]);
  if (!fetched) return latest;
  return latest && latest.version >= fetched.version ? latest : fetched;
}
