// What the tickets service takes (common/money.py parse_price): more than 0, at most two
// decimals (every v1 currency has two), at most 1,000,000. Checked here too so a person hears
// about it before sending.
export function priceProblem(raw: string): string | undefined {
  const value = priceValue(raw);
  if (!value) return "Enter a price.";
  if (!/^\d+(\.\d{1,2})?$/.test(value)) return "Enter a price as a number, like 20 or 19.99.";
  if (Number(value) <= 0) return "The price must be more than 0.";
  if (Number(value) > 1_000_000) return "The price can be at most 1,000,000.";
  return undefined;
}

export function priceValue(raw: string): string {
  return raw.trim().replace(/^[$€£]/, "");
}
