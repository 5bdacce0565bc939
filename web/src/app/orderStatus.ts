// An order's state in words. CANCELLED is told apart by why (cancelReason): the buyer
// cancelled, the time to pay ran out (shown as Expired), the payment failed, or the event was
// called off.

export interface OrderState {
  status: "CREATED" | "AWAITING_PAYMENT" | "COMPLETE" | "CANCELLED";
  cancelReason?: "CANCELLED_BY_USER" | "EXPIRED" | "PAYMENT_FAILED" | "EVENT_CALLED_OFF" | null;
}

export interface StatusText {
  label: string;
  detail: string;
  tone: "waiting" | "done" | "stopped";
  open: boolean;
}

export function statusText(order: OrderState): StatusText {
  switch (order.status) {
    case "CREATED":
      return { label: "Reserved", detail: "The ticket is held for you until you pay or the time runs out.", tone: "waiting", open: true };
    case "AWAITING_PAYMENT":
      return { label: "Awaiting payment", detail: "Waiting for your bank to confirm the payment. This page updates by itself.", tone: "waiting", open: true };
    case "COMPLETE":
      return { label: "Complete", detail: "Paid. The ticket is yours.", tone: "done", open: false };
    case "CANCELLED":
      switch (order.cancelReason) {
        case "EXPIRED":
          return { label: "Expired", detail: "The time to pay ran out, so the ticket went back on sale. Nothing was charged.", tone: "stopped", open: false };
        case "PAYMENT_FAILED":
          return { label: "Payment failed", detail: "The payment did not go through, so the order is cancelled and the ticket is back on sale. Nothing was charged.", tone: "stopped", open: false };
        case "EVENT_CALLED_OFF":
          return { label: "Event called off", detail: "The event was cancelled or postponed before you paid, so the order is cancelled. Nothing was charged.", tone: "stopped", open: false };
        case "CANCELLED_BY_USER":
          return { label: "Cancelled", detail: "You cancelled this order; the ticket is back on sale.", tone: "stopped", open: false };
        default:
          return { label: "Cancelled", detail: "This order is cancelled; the ticket is back on sale.", tone: "stopped", open: false };
      }
  }
}
