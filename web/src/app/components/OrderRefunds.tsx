// An order's refunds on its page (issue 21): their state, and "Request a refund" while the
// order is paid and nothing is refunded or asked for yet. Whether the policy allows it (before
// the event starts, or the event cancelled or rescheduled) is the server's to say: a refusal
// shows its reason.
import { useState } from "react";
import { useMutation } from "urql";
import { mutationProblem, type Problem } from "../errors";
import { money } from "../format";
import type { ResultOf } from "../graphql";
import { sendWithRetries } from "../idempotency";
import { RequestRefundMutation, type RefundFields } from "../operations";
import { ProblemMessage } from "./Problem";

export type Refund = ResultOf<typeof RefundFields>;

const STATE_WORDS: Record<string, string> = {
  REQUESTED: "Requested: waiting for our team's decision",
  APPROVED: "Approved: being paid back to your card",
  SUCCEEDED: "Refunded to your card",
  DECLINED: "Declined",
  FAILED: "Could not be refunded",
};

/** The same states as an operator reads them: it is the buyer's card, not theirs. */
const OPERATOR_WORDS: Record<string, string> = {
  ...STATE_WORDS,
  REQUESTED: "Requested: waiting for a decision",
  APPROVED: "Approved: being paid back to the buyer's card",
  SUCCEEDED: "Refunded to the buyer's card",
};

/** A refund's state in words, for its buyer or (`reader: "operator"`) for an admin. */
export function refundWords(refund: Refund, reader: "buyer" | "operator" = "buyer"): string {
  const words = (reader === "operator" ? OPERATOR_WORDS : STATE_WORDS)[refund.state] ?? refund.state;
  return refund.outcomeReason ? `${words}: ${refund.outcomeReason}` : words;
}

/** May the buyer ask (as far as the page knows: the server has the last word)? */
export function canRequestRefund(orderStatus: string, refunds: readonly Refund[]): boolean {
  if (orderStatus !== "COMPLETE") return false;
  return !refunds.some((r) => r.state === "REQUESTED" || r.state === "APPROVED" || r.state === "SUCCEEDED");
}

export function OrderRefunds({
  orderId,
  orderStatus,
  refunds,
}: {
  orderId: string;
  orderStatus: string;
  refunds: readonly Refund[];
}) {
  const [asked, requestRefund] = useMutation(RequestRefundMutation);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [made, setMade] = useState<Refund | null>(null);
  const shown = made && !refunds.some((r) => r.id === made.id) ? [...refunds, made] : refunds;

  const send = async () => {
    setProblem(null);
    const input = { orderId, reason };
    const done = await sendWithRetries(() => requestRefund({ input }), (r) => r.data?.requestRefund);
    const refused = mutationProblem(done, done.data?.requestRefund, "requestRefund");
    setProblem(refused);
    if (!refused && done.data?.requestRefund?.refund) {
      setMade(done.data.requestRefund.refund);
      setOpen(false);
    }
  };

  return (
    <section className="refunds" aria-labelledby="refunds-heading">
      {shown.length > 0 && (
        <>
          <h2 id="refunds-heading">Refunds</h2>
          <ul data-testid="order-refunds">
            {shown.map((r) => (
              <li key={r.id}>
                {money(r.amount)}: {refundWords(r)}
              </li>
            ))}
          </ul>
        </>
      )}
      <ProblemMessage problem={problem} />
      {canRequestRefund(orderStatus, shown) && !open && (
        <p>
          <button type="button" className="link-button" onClick={() => setOpen(true)}>
            Request a refund
          </button>
        </p>
      )}
      {open && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void send();
          }}
        >
          <div className="field">
            <label htmlFor="refund-reason">Why do you want a refund?</label>
            <textarea
              id="refund-reason"
              required
              maxLength={500}
              value={reason}
              onChange={(event) => setReason(event.target.value)}
            />
          </div>
          <p>
            <button type="submit" disabled={asked.fetching || !reason.trim()}>
              Send the request
            </button>{" "}
            <button type="button" className="link-button" onClick={() => setOpen(false)}>
              Not now
            </button>
          </p>
        </form>
      )}
    </section>
  );
}
