import { useEffect, useState } from "react";
import { useQuery } from "urql";
import { money, type CurrencyCode } from "../format";
import { FeeQuoteQuery } from "../operations";
import { priceProblem, priceValue } from "../price";

/**
 * What a seller receives per ticket at the price being typed, and what a buyer will pay for it,
 * as payments quotes them for the event's tickets (its own fees, if any; asked once the price
 * has been still for a moment and is valid).
 */
export function SellerProceeds({
  price,
  currencyCode,
  eventId,
}: {
  price: string;
  currencyCode: CurrencyCode;
  eventId?: string | null;
}) {
  const [settled, setSettled] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setSettled(priceProblem(price) ? "" : priceValue(price)), 300);
    return () => clearTimeout(timer);
  }, [price]);
  const [result] = useQuery({
    query: FeeQuoteQuery,
    variables: { price: { amount: settled, currencyCode }, eventId: eventId ?? null },
    pause: !settled,
  });
  const quote = settled ? result.data?.feeQuote : null;
  return (
    <p className="hint" aria-live="polite" data-testid="seller-proceeds">
      {quote
        ? `You receive ${money(quote.sellerProceeds)} per ticket (after our ${money(quote.sellerCommission)} fee); buyers pay ${money(quote.allInPrice)} with their fees.`
        : settled && result.error
          ? "What you receive cannot be worked out right now."
          : ""}
    </p>
  );
}
