// A listing's facts in words, shared by the event page and the seller's own listings.
import type { ResultOf } from "./graphql";
import type { ListingFields } from "./operations";

export type Listing = ResultOf<typeof ListingFields>;

/** "Section A2 · Row 7 · Seats 11, 12, 13"; "Seats not numbered" when nothing is said. */
export function whereSeated(listing: Pick<Listing, "section" | "row" | "seats">): string {
  const parts = [];
  if (listing.section) parts.push(`Section ${listing.section}`);
  if (listing.row) parts.push(`Row ${listing.row}`);
  if (listing.seats.length) parts.push(`${listing.seats.length === 1 ? "Seat" : "Seats"} ${listing.seats.join(", ")}`);
  return parts.length ? parts.join(" · ") : "Seats not numbered";
}

export const SPLIT_RULES = [
  { value: "ANY", label: "Any quantity" },
  { value: "EVEN", label: "Pairs only (even quantities)" },
  { value: "NO_SINGLE", label: "Never leave a single seat" },
  { value: "ALL", label: "All together, in one order" },
] as const;

export const DELIVERY_METHODS = [
  { value: "E_TICKET", label: "E-ticket (PDF or wallet pass)" },
  { value: "BARCODE", label: "Barcodes" },
  { value: "MOBILE_TRANSFER", label: "Transfer in the venue's app" },
] as const;

export function deliveryWords(method: string): string {
  return DELIVERY_METHODS.find((m) => m.value === method)?.label ?? method;
}

/**
 * A listing's state as its seller reads it. A listing whose seats are all gone is SOLD; one
 * withdrawn with none sold is WITHDRAWN; HELD while a buyer's order holds some of its seats.
 */
export function listingStateWords(listing: Pick<Listing, "state" | "available" | "quantity">): string {
  switch (listing.state) {
    case "FOR_SALE":
      return "For sale";
    case "HELD":
      return "Held by a buyer";
    case "SOLD":
      return "Sold";
    case "WITHDRAWN":
      return "Withdrawn";
    default:
      return "Not known right now";
  }
}

/** price × quantity of a decimal amount ("80.00" × 2 = "160.00"), in whole cents: no float. */
export function times(amount: string, quantity: number): string {
  const [whole = "0", cents = "00"] = amount.split(".");
  const total = (BigInt(whole) * 100n + BigInt(cents.padEnd(2, "0").slice(0, 2))) * BigInt(quantity);
  return `${total / 100n}.${String(total % 100n).padStart(2, "0")}`;
}
