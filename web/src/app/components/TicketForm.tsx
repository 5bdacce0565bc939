import { useId, useState, type FormEvent } from "react";
import { SellerProceeds } from "./SellerProceeds";
import type { Problem } from "../errors";
import { CURRENCIES, type CurrencyCode } from "../format";
import { priceProblem, priceValue } from "../price";
import { Field } from "./Field";
import { ProblemMessage } from "./Problem";

export interface TicketValues {
  title: string;
  price: string;
  currencyCode: CurrencyCode;
}

/**
 * Title, price and its currency of a ticket, checked here before the API checks them again.
 * The currency is a choice the person sees (the API has no default for it); the sell page
 * preselects US dollars, in view.
 */
export function TicketForm({
  initial,
  submitLabel,
  onSubmit,
}: {
  initial: TicketValues;
  submitLabel: string;
  onSubmit(values: TicketValues): Promise<Problem | null>;
}) {
  const [title, setTitle] = useState(initial.title);
  const [price, setPrice] = useState(initial.price);
  const [currencyCode, setCurrencyCode] = useState<CurrencyCode>(initial.currencyCode);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [checked, setChecked] = useState<{ title?: string; price?: string }>({});
  const [busy, setBusy] = useState(false);
  const currencyId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const mistakes = {
      title: title.trim() ? (title.trim().length > 200 ? "The title can be at most 200 characters." : undefined) : "Enter a title.",
      price: priceProblem(price),
    };
    setChecked(mistakes);
    setProblem(null);
    if (mistakes.title || mistakes.price) return;
    setBusy(true);
    try {
      setProblem(await onSubmit({ title: title.trim(), price: priceValue(price), currencyCode }));
    } finally {
      setBusy(false);
    }
  };

  const errorFor = (name: "title" | "price") => checked[name] ?? (problem?.field === name ? problem.message : undefined);
  return (
    <form onSubmit={submit} noValidate>
      <ProblemMessage problem={problem && problem.field !== "title" && problem.field !== "price" ? problem : null} />
      <Field
        label="Title"
        name="title"
        hint="The event, and where you sit: “Arctic Monkeys, row F”."
        required
        maxLength={200}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        error={errorFor("title")}
      />
      <div className="field">
        <label htmlFor={currencyId}>Currency</label>
        <select
          id={currencyId}
          name="currencyCode"
          value={currencyCode}
          onChange={(e) => setCurrencyCode(e.target.value as CurrencyCode)}
        >
          {CURRENCIES.map((currency) => (
            <option key={currency.code} value={currency.code}>
              {currency.name}
            </option>
          ))}
        </select>
      </div>
      <Field
        label="Price"
        name="price"
        inputMode="decimal"
        autoComplete="off"
        required
        value={price}
        onChange={(e) => setPrice(e.target.value)}
        error={errorFor("price")}
      />
      <SellerProceeds price={price} currencyCode={currencyCode} />
      <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
        {submitLabel}
      </button>
    </form>
  );
}
