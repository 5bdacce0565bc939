import { useState, type FormEvent } from "react";
import type { Problem } from "../errors";
import { priceProblem, priceValue } from "../price";
import { Field } from "./Field";
import { ProblemMessage } from "./Problem";

export interface TicketValues {
  title: string;
  price: string;
}

/** Title and price of a ticket, checked here before the API checks them again. */
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
  const [problem, setProblem] = useState<Problem | null>(null);
  const [checked, setChecked] = useState<{ title?: string; price?: string }>({});
  const [busy, setBusy] = useState(false);

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
      setProblem(await onSubmit({ title: title.trim(), price: priceValue(price) }));
    } finally {
      setBusy(false);
    }
  };

  const errorFor = (name: "title" | "price") => checked[name] ?? (problem?.field === name ? problem.message : undefined);
  return (
    <form onSubmit={submit} noValidate>
      <ProblemMessage problem={problem && !problem.field ? problem : null} />
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
      <Field
        label="Price (US dollars)"
        name="price"
        inputMode="decimal"
        autoComplete="off"
        required
        value={price}
        onChange={(e) => setPrice(e.target.value)}
        error={errorFor("price")}
      />
      <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
        {submitLabel}
      </button>
    </form>
  );
}
