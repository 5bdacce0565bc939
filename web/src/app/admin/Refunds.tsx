// The admins' refunds (issue 21), on the money page: buyers' requests to approve or decline, a
// form to refund an order in full or in part with a reason, and cancelled events' refund runs
// with their progress. Payments decides who may (admins only) and what is allowed; a refusal
// shows its reason.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/Problem";
import { refundWords, type Refund } from "../components/OrderRefunds";
import { describe, mutationProblem, type Problem } from "../errors";
import { CURRENCIES, money, type CurrencyCode } from "../format";
import { sendWithRetries, useActionKey } from "../idempotency";
import {
  DecideRefundRequestMutation,
  RefundOrderMutation,
  RefundRequestsQuery,
  RefundRunsQuery,
} from "../operations";

export function Refunds() {
  return (
    <>
      <RefundRequests />
      <RefundAnOrder />
      <RefundRuns />
    </>
  );
}

function RefundRequests() {
  const [result, reexecute] = useQuery({
    query: RefundRequestsQuery,
    variables: { state: "REQUESTED", first: 50 },
    requestPolicy: "network-only",
  });
  const [deciding, decide] = useMutation(DecideRefundRequestMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [declineReason, setDeclineReason] = useState<Record<string, string>>({});

  const send = async (refundId: string, approve: boolean) => {
    setProblem(null);
    const input = { refundId, approve, reason: approve ? null : (declineReason[refundId] ?? "") };
    const done = await sendWithRetries(() => decide({ input }), (r) => r.data?.decideRefundRequest);
    setProblem(mutationProblem(done, done.data?.decideRefundRequest, "refund"));
    reexecute({ requestPolicy: "network-only" });
  };

  const requests = result.data?.refundRequests ?? [];
  return (
    <section aria-labelledby="refund-requests">
      <h2 id="refund-requests">Refund requests</h2>
      {result.fetching && !result.data && <Loading what="the refund requests" />}
      {result.error && <ProblemMessage problem={describe(result.error, "load")} />}
      <ProblemMessage problem={problem} />
      {result.data && requests.length === 0 && <p>No request is waiting.</p>}
      <ul className="refund-requests" data-testid="refund-requests">
        {requests.map((r) => (
          <li key={r.id}>
            <p>
              <strong>{money(r.amount)}</strong> for order <code>{r.orderRef}</code>, asked{" "}
              {new Date(r.createdAt).toLocaleString()}: “{r.reason}”
            </p>
            <Field
              label="Reason, if declining"
              value={declineReason[r.id] ?? ""}
              maxLength={500}
              onChange={(event) => setDeclineReason({ ...declineReason, [r.id]: event.target.value })}
            />
            <p>
              <button type="button" disabled={deciding.fetching} onClick={() => void send(r.id, true)}>
                Approve and refund
              </button>{" "}
              <button
                type="button"
                disabled={deciding.fetching || !(declineReason[r.id] ?? "").trim()}
                onClick={() => void send(r.id, false)}
              >
                Decline
              </button>
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RefundAnOrder() {
  const [refunding, refundOrder] = useMutation(RefundOrderMutation);
  const key = useActionKey();
  const [orderId, setOrderId] = useState("");
  const [full, setFull] = useState(true);
  const [amount, setAmount] = useState("");
  const [currencyCode, setCurrencyCode] = useState<CurrencyCode>("EUR");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [made, setMade] = useState<Refund | null>(null);

  const send = async () => {
    setProblem(null);
    setMade(null);
    const input = {
      orderId: orderId.trim(),
      amount: full ? null : { amount, currencyCode },
      reason,
      idempotencyKey: key.current(),
    };
    const done = await sendWithRetries(() => refundOrder({ input }), (r) => r.data?.refundOrder);
    const refused = mutationProblem(done, done.data?.refundOrder, "refund");
    setProblem(refused);
    if (!refused && done.data?.refundOrder?.refund) {
      setMade(done.data.refundOrder.refund);
      key.renew();
    }
  };

  return (
    <section aria-labelledby="refund-an-order">
      <h2 id="refund-an-order">Refund an order</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <Field label="Order id" required value={orderId} onChange={(e) => setOrderId(e.target.value)} />
        <fieldset>
          <legend>How much</legend>
          <label>
            <input type="radio" name="refund-size" checked={full} onChange={() => setFull(true)} /> All that is
            left (the buyer's fees included)
          </label>
          <label>
            <input type="radio" name="refund-size" checked={!full} onChange={() => setFull(false)} /> Part of it
          </label>
          {!full && (
            <>
              <Field
                label="Amount"
                inputMode="decimal"
                required
                value={amount}
                onChange={(e) => setAmount(e.target.value)}
                error={problem?.field === "amount" ? problem.message : undefined}
              />
              <label htmlFor="refund-currency">Currency (the order's)</label>
              <select
                id="refund-currency"
                value={currencyCode}
                onChange={(e) => setCurrencyCode(e.target.value as CurrencyCode)}
              >
                {CURRENCIES.map((c) => (
                  <option key={c.code} value={c.code}>
                    {c.name}
                  </option>
                ))}
              </select>
            </>
          )}
        </fieldset>
        <div className="field">
          <label htmlFor="refund-order-reason">Reason</label>
          <textarea
            id="refund-order-reason"
            required
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        <p>
          <button type="submit" disabled={refunding.fetching || !orderId.trim() || !reason.trim()}>
            Refund
          </button>
        </p>
      </form>
      {problem?.field !== "amount" && <ProblemMessage problem={problem} />}
      {made && (
        <p className="notice" role="status" data-testid="refund-made">
          {money(made.amount)}: {refundWords(made, "operator")}
        </p>
      )}
    </section>
  );
}

function RefundRuns() {
  const [result] = useQuery({ query: RefundRunsQuery, variables: { first: 20 }, requestPolicy: "network-only" });
  const runs = result.data?.refundRuns ?? [];
  return (
    <section aria-labelledby="refund-runs">
      <h2 id="refund-runs">Cancelled events' refunds</h2>
      {result.error && <ProblemMessage problem={describe(result.error, "load")} />}
      {result.data && runs.length === 0 && <p>No event has been cancelled.</p>}
      {runs.length > 0 && (
        <table data-testid="refund-runs">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">State</th>
              <th scope="col">Refunded</th>
              <th scope="col">Refunded before</th>
              <th scope="col">Failed</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.eventRef}>
                <td>
                  <code>{run.eventRef}</code>
                </td>
                <td>{run.state === "DONE" ? "Done" : "Running"}</td>
                <td>
                  <progress max={run.total || 1} value={run.done + run.skipped + run.failed} /> {run.done} of{" "}
                  {run.total}
                </td>
                <td>{run.skipped}</td>
                <td>{run.failed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
