// A payout's state in plain words, for the seller it pays.

export interface PayoutState {
  status: string; // PayoutStatus; one this app does not know yet reads as pending
  dueAt?: string | null;
  paidAt?: string | null;
  reason?: string | null;
}

/** "Sat, Jan 9, 2027" in the reader's own time zone. */
export function payoutDay(iso: string): string {
  return new Intl.DateTimeFormat("en-US", { weekday: "short", year: "numeric", month: "short", day: "numeric" }).format(
    new Date(iso),
  );
}

export function payoutWords(payout: PayoutState): string {
  switch (payout.status) {
    case "WAITING_FOR_ONBOARDING":
      return "Waiting for you to set up payouts";
    case "SCHEDULED":
      return payout.dueAt ? `Scheduled for ${payoutDay(payout.dueAt)}` : "Scheduled for after the event";
    case "HELD":
      return "Held: disputed";
    case "PAID":
      return payout.paidAt ? `Paid on ${payoutDay(payout.paidAt)}` : "Paid";
    case "REVERSED":
      return "Reversed";
    case "FAILED":
      return payout.reason ? `Failed: ${payout.reason}` : "Failed";
    default:
      return "Pending";
  }
}
