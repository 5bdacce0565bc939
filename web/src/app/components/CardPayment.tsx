import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { mutationProblem, type Problem } from "../errors";
import { money, type Money } from "../format";
import { sendWithRetries, useActionKey } from "../idempotency";
import { CreatePaymentMutation } from "../operations";
import { useSession } from "../session";
import { loadStripe, paymentMethodFor, type CardElement, type StripeClient } from "../stripe";

type Step = "loading" | "ready" | "paying" | "authenticating" | "sent" | "unavailable";

// Stripe.js reads the card (its numbers never reach our servers), createPayment charges it,
// and when the bank wants the buyer to confirm (3-D Secure) Stripe.js asks them. The order's
// status (shown above the form, live) tells how it ended.
export interface PaymentOutcome {
  problem: Problem | null;
  note: string;
  /** The bank is asking the buyer (3-D Secure) right now. */
  pending?: boolean;
}

async function bankConfirmation(stripe: StripeClient, clientSecret: string): Promise<PaymentOutcome> {
  const confirmed = await stripe.confirmCardPayment(clientSecret);
  if (confirmed.error) {
    const why = confirmed.error.message ? `: ${confirmed.error.message}` : ".";
    return {
      problem: { code: "PAYMENT_DECLINED", message: `Your bank did not confirm the payment${why} Nothing was charged.` },
      note: "",
    };
  }
  return { problem: null, note: "Your bank confirmed the payment. Completing your order…" };
}

/**
 * For an order whose payment waits for the buyer's bank (3-D Secure) when the page no longer
 * has the card form: after a reload, or when the bank's window was closed.
 */
export function ConfirmWithBank({
  clientSecret,
  onOutcome,
}: {
  clientSecret: string;
  onOutcome(outcome: PaymentOutcome): void;
}) {
  const { stripe: config } = useSession();
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    if (!config.jsUrl || !config.publishableKey) {
      onOutcome({ problem: { code: "UNAVAILABLE", message: "Card payments are not available right now. Please try again later." }, note: "" });
      return;
    }
    setBusy(true);
    onOutcome({ problem: null, note: "Your bank asks you to confirm this payment.", pending: true });
    try {
      const stripe = await loadStripe(config.jsUrl, config.publishableKey);
      onOutcome(await bankConfirmation(stripe, clientSecret));
    } catch {
      onOutcome({ problem: { code: "NETWORK", message: "We cannot reach the payment service. Check your connection and try again." }, note: "" });
    } finally {
      setBusy(false);
    }
  };
  return (
    <p>
      <button type="button" className="primary" onClick={confirm} disabled={busy} aria-busy={busy}>
        Confirm the payment with your bank
      </button>
    </p>
  );
}

/**
 * The card form. What happened to the last attempt goes to `onOutcome`: the page shows it
 * outside this form, which goes away once the order is no longer payable (a declined card
 * cancels the order), and the person must still read why.
 */
export function CardPayment({
  orderId,
  amount,
  disabled,
  onOutcome,
}: {
  orderId: string;
  amount: Money | null; // null: the total could not be read right now
  disabled: boolean;
  onOutcome(outcome: PaymentOutcome): void;
}) {
  const { stripe: config } = useSession();
  const [step, setStep] = useState<Step>("loading");
  const setProblem = (problem: Problem | null) => onOutcome({ problem, note: "" });
  const setNote = (note: string) => onOutcome({ problem: null, note });
  const [, createPayment] = useMutation(CreatePaymentMutation);
  const mount = useRef<HTMLDivElement>(null);
  const stripe = useRef<StripeClient | null>(null);
  const card = useRef<CardElement | null>(null);
  const labelId = useId();
  // The charge's idempotency key, made when the form is shown (IDEM-2), kept until an answer.
  const key = useActionKey();
  // The card Stripe.js read for the attempt whose answer never came: the next click sends that
  // identical request again (same key, same card), never the key with another card.
  const unanswered = useRef<string | null>(null);

  useEffect(() => {
    if (!config.publishableKey || !config.jsUrl) {
      setStep("unavailable");
      return;
    }
    let gone = false;
    loadStripe(config.jsUrl, config.publishableKey)
      .then((client) => {
        if (gone || !mount.current) return;
        stripe.current = client;
        card.current = client.elements().create("card", { hidePostalCode: true });
        card.current.mount(mount.current);
        setStep("ready");
      })
      .catch(() => !gone && setStep("unavailable"));
    return () => {
      gone = true;
      card.current?.destroy();
      card.current = null;
    };
  }, [config.jsUrl, config.publishableKey]);

  const pay = async (event: FormEvent) => {
    event.preventDefault();
    if (!stripe.current || !card.current) return;
    setProblem(null);
    setStep("paying");
    let paymentMethod = unanswered.current;
    if (!paymentMethod) {
      const method = await paymentMethodFor(stripe.current, card.current);
      if (!method.id) {
        setProblem({ code: "BAD_USER_INPUT", message: method.error?.message ?? "Please check the card details." });
        setStep("ready");
        return;
      }
      paymentMethod = method.id;
    }
    const input = { orderId, paymentMethod, idempotencyKey: key.current() };
    const result = await sendWithRetries(() => createPayment({ input }), (r) => r.data?.createPayment);
    const payload = result.data?.createPayment;
    unanswered.current = payload ? null : paymentMethod;
    if (payload) key.renew(); // answered (paid, declined or refused): another try is a new charge
    const problem = mutationProblem(result, payload, "pay");
    const payment = payload?.payment;
    if (problem || !payment) {
      setProblem(problem);
      setStep("ready");
      return;
    }
    if (payment.status === "REQUIRES_ACTION" && payment.clientSecret) {
      setStep("authenticating");
      onOutcome({ problem: null, note: "Your bank asks you to confirm this payment.", pending: true });
      onOutcome(await bankConfirmation(stripe.current, payment.clientSecret));
    } else if (payment.status === "FAILED") {
      setProblem({ code: "PAYMENT_DECLINED", message: "Your card was declined, so nothing was charged." });
    } else {
      setNote("Payment received. Completing your order…");
    }
    setStep("sent");
  };

  if (step === "unavailable") {
    return (
      <div className="notice notice-error" role="alert">
        <p>Card payments are not available right now, so this order cannot be paid here. Please try again later.</p>
      </div>
    );
  }
  const busy = step === "paying" || step === "authenticating";
  return (
    <form className="card-form" onSubmit={pay} aria-labelledby={labelId}>
      <h2 id={labelId}>Pay by card</h2>
      {step !== "sent" && (
        <>
          <div className="field">
            <span className="label" id={`${labelId}-card`}>
              Card details
            </span>
            <div ref={mount} className="card-element" role="group" aria-labelledby={`${labelId}-card`} />
            {step === "loading" && <p className="loading">Loading the card form…</p>}
          </div>
          <button type="submit" className="primary" disabled={disabled || step !== "ready"} aria-busy={busy}>
            {busy ? "Paying…" : amount ? `Pay ${money(amount)}` : "Pay"}
          </button>
        </>
      )}
    </form>
  );
}
