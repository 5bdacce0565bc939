import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQuery } from "urql";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { PayoutsNotice } from "../components/PayoutsNotice";
import { SellerProceeds } from "../components/SellerProceeds";
import { ProblemMessage } from "../components/Problem";
import { describe, mutationProblem, type Problem } from "../errors";
import { CURRENCIES, eventTime, type CurrencyCode } from "../format";
import type { VariablesOf } from "../graphql";
import { sendWithRetries, useActionKey } from "../idempotency";
import { DELIVERY_METHODS, SPLIT_RULES } from "../listing";
import { CreateListingMutation, EventQuery } from "../operations";
import { priceProblem, priceValue } from "../price";
import { Link, navigate } from "../router";
import { useSession } from "../session";

type Input = VariablesOf<typeof CreateListingMutation>["input"];
type SplitRule = NonNullable<Input["splitRule"]>;
type DeliveryMethod = NonNullable<Input["deliveryMethod"]>;

export function SellListingPage({ eventId }: { eventId: string }) {
  const { user } = useSession();
  const [result] = useQuery({ query: EventQuery, variables: { id: eventId } });
  const event = result.data?.event;
  if (user === null) {
    const here = encodeURIComponent(`/events/${eventId}/sell`);
    return (
      <Page title="Sell tickets">
        <p>
          <Link to={`/signin?next=${here}`}>Sign in</Link> or <Link to={`/signup?next=${here}`}>create an account</Link> to
          sell tickets.
        </p>
      </Page>
    );
  }
  if (result.error && !event) {
    return (
      <Page title="Sell tickets">
        <ProblemMessage problem={describe(result.error, "load")} />
      </Page>
    );
  }
  if (!event) {
    return (
      <Page title="Sell tickets">
        <Loading what="the event" />
      </Page>
    );
  }
  return (
    <Page title={`Sell tickets for ${event.name}`}>
      <p>
        {event.venue.name}, {event.venue.city} · {eventTime(event.startsAt, event.venue.timeZone)}
      </p>
      <PayoutsNotice />
      <ListingForm eventId={event.id} />
    </Page>
  );
}

function Choice({ label, value, onChange, children }: { label: string; value: string; onChange(v: string): void; children: ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </div>
  );
}

type Mistakes = Partial<Record<"quantity" | "price" | "faceValue" | "seats" | "deliverBy", string>>;

/** The listing form, checked here before the API checks it again; its idempotency key kept until it lists. */
function ListingForm({ eventId }: { eventId: string }) {
  const [, createListing] = useMutation(CreateListingMutation);
  const key = useActionKey();
  const [quantity, setQuantity] = useState("2");
  const [currencyCode, setCurrencyCode] = useState<CurrencyCode>("USD");
  const [price, setPrice] = useState("");
  const [faceValue, setFaceValue] = useState("");
  const [section, setSection] = useState("");
  const [row, setRow] = useState("");
  const [seats, setSeats] = useState("");
  const [splitRule, setSplitRule] = useState<SplitRule>("ANY");
  const [deliveryMethod, setDeliveryMethod] = useState<DeliveryMethod>("E_TICKET");
  const [notes, setNotes] = useState("");
  // When the seller will deliver a sold order's seats by (a datetime-local value); empty: the default.
  const [deliverBy, setDeliverBy] = useState("");
  const [checked, setChecked] = useState<Mistakes>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const notesId = useId();

  const seatList = seats.split(/[\s,]+/).filter(Boolean);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const count = Number(quantity);
    const mistakes: Mistakes = {
      quantity: Number.isInteger(count) && count >= 1 && count <= 100 ? undefined : "Enter how many tickets, 1 to 100.",
      price: priceProblem(price),
      faceValue: faceValue.trim() ? priceProblem(faceValue) : undefined,
      seats:
        seatList.length && seatList.length !== count
          ? `Give one seat number per ticket (${count || 0}), or none.`
          : undefined,
      deliverBy:
        deliverBy && !(Date.parse(deliverBy) > Date.now()) ? "Choose a time in the future, or leave it empty." : undefined,
    };
    setChecked(mistakes);
    setProblem(null);
    if (Object.values(mistakes).some(Boolean)) return;
    const input: Input = {
      eventId,
      quantity: count,
      price: { amount: priceValue(price), currencyCode },
      faceValue: faceValue.trim() ? { amount: priceValue(faceValue), currencyCode } : null,
      section: section.trim() || null,
      row: row.trim() || null,
      seats: seatList.length ? seatList : null,
      splitRule,
      deliveryMethod,
      notes: notes.trim() || null,
      deliverBy: deliverBy ? new Date(deliverBy).toISOString() : null,
      idempotencyKey: key.current(),
    };
    setBusy(true);
    try {
      const result = await sendWithRetries(() => createListing({ input }), (r) => r.data?.createListing);
      const payload = result.data?.createListing;
      const refused = mutationProblem(result, payload, "sell");
      if (payload) key.renew();
      if (refused) setProblem(refused);
      else if (payload?.listing) navigate(`/events/${eventId}?listed=1`);
    } finally {
      setBusy(false);
    }
  };

  const errorFor = (name: keyof Mistakes) => checked[name] ?? (problem?.field === name ? problem.message : undefined);
  const own = problem && !["quantity", "price", "faceValue", "seats", "deliverBy"].includes(problem.field ?? "") ? problem : null;
  return (
    <form onSubmit={submit} noValidate>
      <ProblemMessage problem={own} />
      <Field label="Quantity" name="quantity" inputMode="numeric" value={quantity} onChange={(e) => setQuantity(e.target.value)} error={errorFor("quantity")} />
      <Choice label="Currency" value={currencyCode} onChange={(v) => setCurrencyCode(v as CurrencyCode)}>
        {CURRENCIES.map((c) => (
          <option key={c.code} value={c.code}>
            {c.name}
          </option>
        ))}
      </Choice>
      <Field label="Price per ticket" name="price" inputMode="decimal" autoComplete="off" value={price} onChange={(e) => setPrice(e.target.value)} error={errorFor("price")} />
      <SellerProceeds price={price} currencyCode={currencyCode} eventId={eventId} />
      <Field label="Face value (optional)" name="faceValue" inputMode="decimal" autoComplete="off" value={faceValue} onChange={(e) => setFaceValue(e.target.value)} error={errorFor("faceValue")} />
      <Field label="Section (optional)" name="section" maxLength={20} value={section} onChange={(e) => setSection(e.target.value)} />
      <Field label="Row (optional)" name="row" maxLength={20} value={row} onChange={(e) => setRow(e.target.value)} />
      <Field label="Seats (optional)" name="seats" hint="One number per ticket, separated by commas: 11, 12" value={seats} onChange={(e) => setSeats(e.target.value)} error={errorFor("seats")} />
      <Choice label="Split rule" value={splitRule} onChange={(v) => setSplitRule(v as SplitRule)}>
        {SPLIT_RULES.map((r) => (
          <option key={r.value} value={r.value}>
            {r.label}
          </option>
        ))}
      </Choice>
      <Choice label="Delivery method" value={deliveryMethod} onChange={(v) => setDeliveryMethod(v as DeliveryMethod)}>
        {DELIVERY_METHODS.map((m) => (
          <option key={m.value} value={m.value}>
            {m.label}
          </option>
        ))}
      </Choice>
      <Field
        label="Deliver by (optional)"
        name="deliverBy"
        type="datetime-local"
        hint="When you will deliver the tickets of an order by. If you miss it, the buyer is refunded. Empty: before the event."
        value={deliverBy}
        onChange={(e) => setDeliverBy(e.target.value)}
        error={errorFor("deliverBy")}
      />
      <div className="field">
        <label htmlFor={notesId}>Notes (optional)</label>
        <textarea id={notesId} name="notes" maxLength={500} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </div>
      <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
        List the tickets
      </button>
    </form>
  );
}
