// Where the API is. Built into the app: VITE_GRAPHQL_URL (default /graphql, the gateway that
// serves the app) and VITE_GRAPHQL_WS_URL (default: the same URL over ws:/wss:). At run time
// the gateway's /config.json says where Stripe.js is and which publishable key to use.

export const GRAPHQL_URL = new URL(
  import.meta.env.VITE_GRAPHQL_URL || "/graphql",
  window.location.href,
).toString();

function websocketUrl(http: string): string {
  const url = new URL(http);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export const GRAPHQL_WS_URL = import.meta.env.VITE_GRAPHQL_WS_URL || websocketUrl(GRAPHQL_URL);

// The session cookie goes with every request: to the app's own origin as browsers do anyway,
// to a gateway on another origin (of the same site) only when asked to, and that gateway must
// allow this origin (CORS_ALLOWED_ORIGINS).
export const CREDENTIALS: RequestCredentials =
  new URL(GRAPHQL_URL).origin === window.location.origin ? "same-origin" : "include";

export interface RuntimeConfig {
  stripe: { jsUrl: string; publishableKey: string | null };
}

const NO_STRIPE: RuntimeConfig = { stripe: { jsUrl: "", publishableKey: null } };

/** The gateway's /config.json (beside its /graphql). Without it the app works but cannot take cards. */
export async function loadRuntimeConfig(): Promise<RuntimeConfig> {
  try {
    const reply = await fetch(new URL("/config.json", GRAPHQL_URL), { credentials: CREDENTIALS });
    if (!reply.ok) return NO_STRIPE;
    const body = (await reply.json()) as Partial<RuntimeConfig>;
    return { stripe: { ...NO_STRIPE.stripe, ...body.stripe } };
  } catch {
    return NO_STRIPE;
  }
}
