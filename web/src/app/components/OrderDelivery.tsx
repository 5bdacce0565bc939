// An order's delivery on its page (issue 22): how the seats come, by when, and, once the seller
// delivered, the tickets themselves: files to download, barcodes, or the seller's note about the
// transfer in the venue's app. The seller sees the same, as the delivery service shows it to both.
import { useState } from "react";
import { downloadTicket } from "../deliveryFiles";
import type { Problem } from "../errors";
import type { ResultOf } from "../graphql";
import type { DeliveryFields } from "../operations";
import { ProblemMessage } from "./Problem";

export type Delivery = ResultOf<typeof DeliveryFields>;

const METHOD_WORDS: Record<string, string> = {
  E_TICKET: "E-tickets (PDF or wallet pass)",
  BARCODE: "Barcodes",
  MOBILE_TRANSFER: "Transfer in the venue's app",
};

const STATUS_WORDS: Record<string, string> = {
  AWAITING_PAYMENT: "Due once the order is paid",
  DUE: "Waiting for the seller",
  DELIVERED: "Delivered",
  MISSED: "Not delivered in time: the order is refunded in full",
  CANCELLED: "Nothing to deliver: the order was not paid",
};

export function deliveryStatusWords(status: string | null | undefined): string {
  return status ? (STATUS_WORDS[status] ?? status) : "Unknown";
}

export function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function seatName(delivery: Delivery, seat: number | null | undefined): string {
  if (seat === null || seat === undefined) return delivery.quantity > 1 ? "All seats" : "Your ticket";
  return delivery.seats[seat] ? `Seat ${delivery.seats[seat]}` : `Ticket ${seat + 1}`;
}

export function DeliveredTickets({ delivery }: { delivery: Delivery }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const save = async (file: Delivery["files"][number]) => {
    setBusy(file.id);
    setProblem(await downloadTicket(file.url, file.filename));
    setBusy(null);
  };
  return (
    <>
      {delivery.files.length > 0 && (
        <ul className="delivery-files" data-testid="delivery-files">
          {delivery.files.map((file) => (
            <li key={file.id}>
              {seatName(delivery, file.seat)}:{" "}
              <button type="button" onClick={() => save(file)} disabled={busy === file.id} aria-busy={busy === file.id}>
                Download {file.filename}
              </button>
            </li>
          ))}
        </ul>
      )}
      {delivery.barcodes.length > 0 && (
        <ul className="delivery-barcodes" data-testid="delivery-barcodes">
          {delivery.barcodes.map((code, i) => (
            <li key={i}>
              {seatName(delivery, i)}: <code>{code}</code>
            </li>
          ))}
        </ul>
      )}
      {delivery.transferNote && (
        <p data-testid="delivery-transfer-note">Seller's note: {delivery.transferNote}</p>
      )}
      <ProblemMessage problem={problem} />
    </>
  );
}

export function OrderDelivery({ delivery }: { delivery: Delivery | null }) {
  if (!delivery) return null;
  return (
    <section className="delivery" aria-labelledby="delivery-heading">
      <h2 id="delivery-heading">Delivery</h2>
      <dl className="facts">
        <dt>How</dt>
        <dd>{METHOD_WORDS[delivery.method] ?? delivery.method}</dd>
        <dt>Status</dt>
        <dd data-testid="delivery-status">{deliveryStatusWords(delivery.status)}</dd>
        {delivery.deliverBy && delivery.status !== "DELIVERED" && (
          <>
            <dt>Deliver by</dt>
            <dd data-testid="delivery-deadline">{when(delivery.deliverBy)}</dd>
          </>
        )}
        {delivery.deliveredAt && (
          <>
            <dt>Delivered</dt>
            <dd>{when(delivery.deliveredAt)}</dd>
          </>
        )}
      </dl>
      {delivery.status === "DELIVERED" && <DeliveredTickets delivery={delivery} />}
    </section>
  );
}
