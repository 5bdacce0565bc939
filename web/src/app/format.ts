// Money stays a decimal string ("1234.50") with its currency; only its display is shaped here.
// Amounts of different currencies are never added (docs/api.md DOM-5).
export type CurrencyCode = "USD" | "EUR" | "GBP";

export interface Money {
  amount: string;
  currencyCode: CurrencyCode | string;
}

export const CURRENCIES: { code: CurrencyCode; name: string }[] = [
  { code: "USD", name: "US dollars (USD)" },
  { code: "EUR", name: "Euros (EUR)" },
  { code: "GBP", name: "Pounds sterling (GBP)" },
];

const SYMBOL: Record<string, string> = { USD: "$", EUR: "€", GBP: "£" };

/** "$1,234.50", "€20.00", "£9.99"; a currency this app does not know yet: "20.00 CHF". */
export function money({ amount, currencyCode }: Money): string {
  const [whole = "0", cents = "00"] = amount.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const figure = `${grouped}.${cents.padEnd(2, "0").slice(0, 2)}`;
  const symbol = SYMBOL[currencyCode];
  return symbol ? `${symbol}${figure}` : `${figure} ${currencyCode}`;
}

/** "mm:ss" (or "h:mm:ss") until `deadline`, never below zero. */
export function remaining(deadline: number, now: number): string {
  const total = Math.max(0, Math.ceil((deadline - now) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

export function spokenDuration(deadline: number, now: number): string {
  const total = Math.max(0, Math.ceil((deadline - now) / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (seconds || !minutes) parts.push(`${seconds} second${seconds === 1 ? "" : "s"}`);
  return parts.join(" ");
}

/**
 * An event's start in its venue's time zone (IANA, e.g. "Europe/London"), as people there read
 * it: "Sat, Jan 9, 2027, 8:00 PM GMT". A time zone this browser does not know: the UTC time.
 */
export function eventTime(iso: string, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions = {
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  };
  try {
    return new Intl.DateTimeFormat("en-US", { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat("en-US", { ...options, timeZone: "UTC" }).format(new Date(iso));
  }
}

/** "CONCERT" → "Concert". */
export function category(value: string): string {
  return value.charAt(0) + value.slice(1).toLowerCase();
}
