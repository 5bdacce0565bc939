// The operators' disputes, a section of the money page (/admin/money): each open dispute with
// what the order's own history says (read-only), its evidence fields to edit, and "Submit
// evidence". Nothing is made up: what payments has not recorded says so.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/Problem";
import { describe, mutationProblem, type Problem } from "../errors";
import { money } from "../format";
import type { ResultOf } from "../graphql";
import { DisputeFields, DisputesQuery, SubmitDisputeEvidenceMutation } from "../operations";

type Dispute = ResultOf<typeof DisputeFields>;
type Status = NonNullable<Dispute["status"]>;
type EvidenceName = Dispute["evidence"][number]["name"];

const NOT_RECORDED = "not yet recorded";
const OPEN: { status: Status; label: string }[] = [
  { status: "NEEDS_RESPONSE", label: "Needs a response" },
  { status: "WARNING_NEEDS_RESPONSE", label: "Inquiries" },
  { status: "UNDER_REVIEW", label: "Under review" },
];
// The evidence fields offered for every dispute (the staged ones come first, as staged).
const OFFERED: { name: EvidenceName; label: string }[] = [
  { name: "PRODUCT_DESCRIPTION", label: "Product description" },
  { name: "UNCATEGORIZED_TEXT", label: "The order's history" },
  { name: "CUSTOMER_NAME", label: "Customer name" },
  { name: "CUSTOMER_EMAIL_ADDRESS", label: "Customer email" },
  { name: "SERVICE_DATE", label: "Event date" },
  { name: "ACCESS_ACTIVITY_LOG", label: "Delivery and entry record" },
  { name: "REFUND_REFUSAL_EXPLANATION", label: "Why no refund" },
];

function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : NOT_RECORDED;
}

function DisputeCard({ dispute }: { dispute: Dispute }) {
  const staged = Object.fromEntries(dispute.evidence.map((e) => [e.name, e.value]));
  const [evidence, setEvidence] = useState<Record<string, string>>(staged);
  const [submitting, submit] = useMutation(SubmitDisputeEvidenceMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  const p = dispute.purchase;
  const open = dispute.status === "NEEDS_RESPONSE" || dispute.status === "WARNING_NEEDS_RESPONSE";

  const send = async (final: boolean) => {
    setProblem(null);
    setDone("");
    const changed = OFFERED.map(({ name }) => name).filter((name) => (evidence[name] ?? "") !== (staged[name] ?? ""));
    const input = {
      disputeId: dispute.id,
      evidence: changed.map((name) => ({ name, value: evidence[name] ?? "" })),
      submit: final,
    };
    const result = await submit({ input });
    const refused = mutationProblem(result, result.data?.submitDisputeEvidence, "dispute");
    setProblem(refused);
    if (!refused) setDone(final ? "Evidence submitted: the card network decides now." : "Evidence saved.");
  };

  return (
    <li className="dispute" data-testid="dispute">
      <h3>
        {money(dispute.amount)} disputed: {dispute.reason.replaceAll("_", " ")}
      </h3>
      <p>
        Status: <span data-testid="dispute-status">{dispute.status ?? "unknown"}</span>. Evidence due by{" "}
        {when(dispute.evidenceDueAt)}; submitted {dispute.submissionCount} time(s).
      </p>
      <dl className="facts">
        <dt>Purchased</dt>
        <dd>{when(p.purchasedAt)}</dd>
        <dt>Paid</dt>
        <dd>{money(p.amountPaid)}</dd>
        <dt>Buyer</dt>
        <dd>
          {p.buyer?.id ?? NOT_RECORDED}, email {p.buyerEmail ?? "not held by payments"}
        </dd>
        <dt>Seller</dt>
        <dd>{p.seller?.id ?? NOT_RECORDED}</dd>
        <dt>Payment</dt>
        <dd>
          {p.paymentIntent}, charge {p.charge ?? NOT_RECORDED}
        </dd>
        <dt>Ticket delivery</dt>
        <dd>{p.deliveryRecord ?? NOT_RECORDED}</dd>
        <dt>Entry scan</dt>
        <dd>{p.entryScan ?? NOT_RECORDED}</dd>
      </dl>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void send(true);
        }}
      >
        {OFFERED.map(({ name, label }) => (
          <label key={name} className="field">
            <span>{label}</span>
            <textarea
              name={name}
              rows={name === "UNCATEGORIZED_TEXT" ? 6 : 2}
              value={evidence[name] ?? ""}
              disabled={!open}
              onChange={(event) => setEvidence({ ...evidence, [name]: event.target.value })}
            />
          </label>
        ))}
        <ProblemMessage problem={problem} />
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        {open && (
          <p>
            <button type="button" onClick={() => void send(false)} disabled={submitting.fetching}>
              Save
            </button>{" "}
            <button type="submit" disabled={submitting.fetching}>
              Submit evidence
            </button>
          </p>
        )}
      </form>
    </li>
  );
}

function DisputeList({ status }: { status: Status }) {
  const [result] = useQuery({ query: DisputesQuery, variables: { status, after: null } });
  if (result.error && !result.data?.disputes) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data?.disputes) return <Loading what="disputes" />;
  const disputes = result.data.disputes.nodes.filter((d): d is Dispute => d !== null);
  if (disputes.length === 0) return <p>None.</p>;
  return (
    <ul className="dispute-list">
      {disputes.map((dispute) => (
        <DisputeCard key={dispute.id} dispute={dispute} />
      ))}
    </ul>
  );
}

/** The money page's disputes: the open ones by status, newest first (20 of each). */
export function Disputes() {
  const [status, setStatus] = useState<Status>("NEEDS_RESPONSE");
  return (
    <section aria-labelledby="disputes-title">
      <h2 id="disputes-title">Disputes</h2>
      <p role="group" aria-label="Which disputes">
        {OPEN.map((choice) => (
          <button
            key={choice.status}
            type="button"
            aria-pressed={choice.status === status}
            onClick={() => setStatus(choice.status)}
          >
            {choice.label}
          </button>
        ))}
      </p>
      <DisputeList key={status} status={status} />
    </section>
  );
}
