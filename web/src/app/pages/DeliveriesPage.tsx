// The seller's "To deliver" page (issue 22): the orders they sold, newest first, each with its
// deadline and the way to deliver it by its listing's method: e-ticket files (one for every
// seat, or one per seat), one barcode per seat, or "I transferred them" for a transfer in the
// venue's app. A missed deadline refunds the buyer: the page says so.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps } from "../components/Paged";
import { ProblemMessage } from "../components/Problem";
import { DeliveredTickets, deliveryStatusWords, seatName, when, type Delivery } from "../components/OrderDelivery";
import { ACCEPTED_FILES, uploadTickets } from "../deliveryFiles";
import { describe, mutationProblem, type Problem } from "../errors";
import { sendWithRetries } from "../idempotency";
import { ConfirmMobileTransferMutation, DeliverBarcodesMutation, DeliveriesToMakeQuery } from "../operations";
import { Link } from "../router";
import { useSession } from "../session";

const HERE = "/deliveries";

export function DeliveriesPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="To deliver">
        <p>
          <Link to={`/signin?next=${encodeURIComponent(HERE)}`}>Sign in</Link> to deliver the tickets you sold.
        </p>
      </Page>
    );
  }
  return (
    <Page title="To deliver">
      {user === undefined ? (
        <Loading what="your sales" />
      ) : (
        <ul className="delivery-list" aria-label="Orders to deliver">
          <Paged renderPage={(page) => <DeliveriesChunk {...page} />} />
        </ul>
      )}
    </Page>
  );
}

function DeliveriesChunk({ after, onMore }: PageProps) {
  const [result, refetch] = useQuery({
    query: DeliveriesToMakeQuery,
    variables: { after },
    requestPolicy: "cache-and-network",
  });
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data) return <Loading what="your sales" />;
  if (!result.data.deliveries) return <ProblemMessage problem={result.error ? describe(result.error, "load") : null} />;
  const { nodes, pageInfo } = result.data.deliveries;
  const reload = () => refetch({ requestPolicy: "network-only" });
  return (
    <>
      {nodes.length === 0 && after === null && <p>You have no sold orders to deliver.</p>}
      {nodes.map((node, index) =>
        node ? (
          <li key={node.orderRef} className="delivery-row" data-testid="delivery-row" data-status={node.status ?? ""}>
            <ToDeliver delivery={node} title={node.listing?.event?.name ?? "Your listing"} onDelivered={reload} />
          </li>
        ) : (
          <li key={`missing-${index}`} className="delivery-row">
            This order cannot be shown right now.
          </li>
        ),
      )}
      <MoreItem pageInfo={pageInfo} onMore={onMore} label="Show older sales" />
    </>
  );
}

function ToDeliver({ delivery, title, onDelivered }: { delivery: Delivery; title: string; onDelivered: () => void }) {
  const seats = delivery.seats.length ? delivery.seats.join(", ") : `${delivery.quantity} unnumbered`;
  return (
    <article>
      <h2>{title}</h2>
      <dl className="facts">
        <dt>Seats</dt>
        <dd>{seats}</dd>
        <dt>Status</dt>
        <dd data-testid="delivery-status">{deliveryStatusWords(delivery.status)}</dd>
        {delivery.deliverBy && delivery.status === "DUE" && (
          <>
            <dt>Deliver by</dt>
            <dd data-testid="delivery-deadline">{when(delivery.deliverBy)}</dd>
          </>
        )}
      </dl>
      {delivery.status === "DUE" && delivery.method === "E_TICKET" && (
        <UploadForm delivery={delivery} onDelivered={onDelivered} />
      )}
      {delivery.status === "DUE" && delivery.method === "BARCODE" && (
        <BarcodeForm delivery={delivery} onDelivered={onDelivered} />
      )}
      {delivery.status === "DUE" && delivery.method === "MOBILE_TRANSFER" && (
        <TransferForm delivery={delivery} onDelivered={onDelivered} />
      )}
      {delivery.status === "MISSED" && (
        <p className="notice notice-error">The deadline passed: the buyer was refunded and this sale is not paid out.</p>
      )}
      {delivery.status === "DELIVERED" && <DeliveredTickets delivery={delivery} />}
    </article>
  );
}

type FormProps = { delivery: Delivery; onDelivered: () => void };

function UploadForm({ delivery, onDelivered }: FormProps) {
  const perSeat = delivery.quantity > 1;
  const [onePerSeat, setOnePerSeat] = useState(false);
  const [files, setFiles] = useState<Record<string, File | null>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const slots: (number | null)[] = onePerSeat ? Array.from({ length: delivery.quantity }, (_, i) => i) : [null];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const chosen = slots.map((seat) => ({ seat, file: files[String(seat)] ?? null }));
    if (chosen.some((c) => !c.file)) {
      setProblem({ code: "BAD_USER_INPUT", message: "Choose a file for each ticket first." });
      return;
    }
    setBusy(true);
    const refused = await uploadTickets(
      delivery.orderRef,
      chosen.map((c) => ({ seat: c.seat, file: c.file! })),
    );
    setBusy(false);
    setProblem(refused);
    if (!refused) onDelivered();
  };
  return (
    <form onSubmit={submit} aria-label="Upload the e-tickets" noValidate>
      {perSeat && (
        <div className="field">
          <label>
            <input type="checkbox" checked={onePerSeat} onChange={(e) => setOnePerSeat(e.target.checked)} /> One file per
            seat
          </label>
        </div>
      )}
      {slots.map((seat) => (
        <div className="field" key={String(seat)}>
          <label htmlFor={`file-${delivery.orderRef}-${seat}`}>{seatName(delivery, seat)} (PDF or PKPass)</label>
          <input
            id={`file-${delivery.orderRef}-${seat}`}
            type="file"
            accept={ACCEPTED_FILES}
            onChange={(e) => setFiles({ ...files, [String(seat)]: e.target.files?.[0] ?? null })}
          />
        </div>
      ))}
      <ProblemMessage problem={problem} />
      <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
        Deliver the e-tickets
      </button>
    </form>
  );
}

function BarcodeForm({ delivery, onDelivered }: FormProps) {
  const [codes, setCodes] = useState<string[]>(() => Array.from({ length: delivery.quantity }, () => ""));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sending, deliverBarcodes] = useMutation(DeliverBarcodesMutation);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (codes.some((c) => !/^[A-Za-z0-9-]{4,64}$/.test(c.trim()))) {
      setProblem({ code: "BAD_USER_INPUT", message: "Each barcode is 4 to 64 letters, digits or dashes." });
      return;
    }
    const input = { orderId: delivery.orderRef, barcodes: codes.map((c) => c.trim()) };
    const done = await sendWithRetries(() => deliverBarcodes({ input }), (r) => r.data?.deliverBarcodes);
    const refused = mutationProblem(done, done.data?.deliverBarcodes, "deliver");
    setProblem(refused);
    if (!refused) onDelivered();
  };
  return (
    <form onSubmit={submit} aria-label="Deliver the barcodes" noValidate>
      {codes.map((code, i) => (
        <div className="field" key={i}>
          <label htmlFor={`barcode-${delivery.orderRef}-${i}`}>Barcode, {seatName(delivery, i).toLowerCase()}</label>
          <input
            id={`barcode-${delivery.orderRef}-${i}`}
            autoComplete="off"
            value={code}
            onChange={(e) => setCodes(codes.map((c, j) => (j === i ? e.target.value : c)))}
          />
        </div>
      ))}
      <ProblemMessage problem={problem} />
      <button type="submit" className="primary" disabled={sending.fetching} aria-busy={sending.fetching}>
        Deliver the barcodes
      </button>
    </form>
  );
}

function TransferForm({ delivery, onDelivered }: FormProps) {
  const [note, setNote] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sending, confirm] = useMutation(ConfirmMobileTransferMutation);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = { orderId: delivery.orderRef, note: note.trim() };
    const done = await sendWithRetries(() => confirm({ input }), (r) => r.data?.confirmMobileTransfer);
    const refused = mutationProblem(done, done.data?.confirmMobileTransfer, "deliver");
    setProblem(refused);
    if (!refused) onDelivered();
  };
  return (
    <form onSubmit={submit} aria-label="Confirm the transfer" noValidate>
      <div className="field">
        <label htmlFor={`note-${delivery.orderRef}`}>Note for the buyer (optional)</label>
        <textarea
          id={`note-${delivery.orderRef}`}
          maxLength={500}
          value={note}
          placeholder="e.g. sent to the buyer's account in the venue's app"
          onChange={(e) => setNote(e.target.value)}
        />
      </div>
      <ProblemMessage problem={problem} />
      <button type="submit" className="primary" disabled={sending.fetching} aria-busy={sending.fetching}>
        I transferred them
      </button>
    </form>
  );
}
