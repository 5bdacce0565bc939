// Stripe.js, loaded from where the gateway says (/config.json): Stripe's own script in
// production, the project's Stripe stand-in's under `ticketing run`. Only what this app calls
// is typed.

export interface StripeError {
  message?: string;
  code?: string;
  decline_code?: string;
}

export interface CardElement {
  mount(target: HTMLElement): void;
  destroy(): void;
  on(event: "change", handler: (event?: { error?: StripeError; complete?: boolean }) => void): void;
}

interface Elements {
  create(type: "card", options?: Record<string, unknown>): CardElement;
}

export interface StripeClient {
  elements(): Elements;
  createPaymentMethod(data: {
    type: "card";
    card: CardElement;
  }): Promise<{ paymentMethod?: { id: string }; error?: StripeError }>;
  confirmCardPayment(
    clientSecret: string,
  ): Promise<{ paymentIntent?: { status: string }; error?: StripeError }>;
}

declare global {
  interface Window {
    Stripe?: (publishableKey: string) => StripeClient;
  }
}

const loading = new Map<string, Promise<void>>();

function loadScript(src: string): Promise<void> {
  let promise = loading.get(src);
  if (!promise) {
    promise = new Promise<void>((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = () => resolve();
      script.onerror = () => {
        loading.delete(src);
        script.remove();
        reject(new Error(`Stripe.js did not load from ${src}`));
      };
      document.head.appendChild(script);
    });
    loading.set(src, promise);
  }
  return promise;
}

export async function loadStripe(jsUrl: string, publishableKey: string): Promise<StripeClient> {
  await loadScript(jsUrl);
  if (!window.Stripe) throw new Error("Stripe.js loaded but did not define Stripe");
  return window.Stripe(publishableKey);
}

/** The id createPayment takes for the card typed into `card`: a PaymentMethod (pm_...). */
export async function paymentMethodFor(
  stripe: StripeClient,
  card: CardElement,
): Promise<{ id?: string; error?: StripeError }> {
  const created = await stripe.createPaymentMethod({ type: "card", card });
  return created.paymentMethod ? { id: created.paymentMethod.id } : { error: created.error };
}
