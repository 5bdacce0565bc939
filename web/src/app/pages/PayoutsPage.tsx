import { useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/Problem";
import { describe, mutationProblem, type Problem } from "../errors";
import type { ResultOf } from "../graphql";
import { sendWithRetries } from "../idempotency";
import { SellerAccountFields, SellerAccountQuery, StartSellerOnboardingMutation } from "../operations";
import { disabledReasonWords, requirementWords } from "../payouts";
import { Link, useLocation } from "../router";
import { useSession } from "../session";

type SellerAccount = ResultOf<typeof SellerAccountFields>;

const HERE = "/payouts";
// Back from Stripe, the account's update reaches us by Stripe's webhook within seconds: the
// page asks again every POLL_MS, up to POLLS times, until the seller is payable.
const POLL_MS = 2_000;
const POLLS = 30;

/** The seller's payout set-up: where they stand with Stripe, and the way to finish it. */
export function PayoutsPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="Payouts">
        <p>
          <Link to={`/signin?next=${encodeURIComponent(HERE)}`}>Sign in</Link> to set up how you are paid for what you
          sell.
        </p>
      </Page>
    );
  }
  return <Page title="Payouts">{user === undefined ? <Loading what="your payouts" /> : <Standing />}</Page>;
}

function Standing() {
  const { search } = useLocation();
  const step = search.get("onboarding"); // "return" or "refresh": back from Stripe
  const [result, refetch] = useQuery({ query: SellerAccountQuery, requestPolicy: "network-only" });
  const account = result.data?.currentUser?.sellerAccount;
  const [polls, setPolls] = useState(0);
  const waiting = step === "return" && account != null && !account.canReceivePayouts && account.status !== "RESTRICTED";
  useEffect(() => {
    if (!waiting || polls >= POLLS || result.fetching) return;
    const timer = window.setTimeout(() => {
      setPolls((n) => n + 1);
      refetch({ requestPolicy: "network-only" });
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [waiting, polls, result.fetching, refetch]);

  if (result.error && !account) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!account) return <Loading what="your payouts" />;
  return (
    <div data-testid="seller-account" data-status={account.status}>
      {step === "refresh" && account.status !== "PAYABLE" && (
        <div className="notice">
          <p>The set-up link expired before you finished. Continue where you left off:</p>
        </div>
      )}
      {waiting && (
        <div className="notice" role="status">
          <p>
            Thanks. Stripe is checking what you gave; this page updates by itself
            {polls >= POLLS ? ". Reload it in a few minutes to see where things stand." : "."}
          </p>
        </div>
      )}
      <Status account={account} />
    </div>
  );
}

function Status({ account }: { account: SellerAccount }) {
  switch (account.status) {
    case "PAYABLE":
      return (
        <div className="notice notice-success" role="status">
          <p>
            <strong>Payouts are set up.</strong> What you sell is paid out to your bank account by Stripe.
          </p>
        </div>
      );
    case "NOT_ONBOARDED":
      return (
        <>
          <p>
            <strong>You have not set up payouts yet.</strong> You can list tickets already; the money for what you sell
            waits until you tell our payment processor, Stripe, where to pay it. It takes a few minutes: your name,
            a few details and a bank account.
          </p>
          <StartOnboarding label="Set up payouts" />
        </>
      );
    case "PENDING":
      return (
        <>
          <p>
            <strong>Payouts are not set up yet.</strong> The money for what you sell waits until they are.
          </p>
          <Needs account={account} />
          <StartOnboarding label="Continue setting up payouts" />
        </>
      );
    case "RESTRICTED":
    default:
      // RESTRICTED, or a status this version of the app does not know: nothing to do here.
      return (
        <div className="notice notice-error">
          <p>
            <strong>Payouts are on hold.</strong>{" "}
            {disabledReasonWords(account.disabledReason) ?? "Stripe has restricted payouts to this account. Please contact us."}
          </p>
        </div>
      );
  }
}

function Needs({ account }: { account: SellerAccount }) {
  const reason = disabledReasonWords(account.disabledReason);
  const needs = requirementWords(account.requirementsDue);
  return (
    <>
      {reason && <p>{reason}</p>}
      {needs.length > 0 && (
        <>
          <h2>What Stripe still needs from you</h2>
          <ul className="requirements" aria-label="What Stripe still needs">
            {needs.map((words) => (
              <li key={words}>{words}</li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/** Opens the seller's Stripe account (once) and sends them to Stripe's onboarding page. */
function StartOnboarding({ label }: { label: string }) {
  const [state, start] = useMutation(StartSellerOnboardingMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [leaving, setLeaving] = useState(false);
  const go = async () => {
    setProblem(null);
    const variables = { input: { returnPath: HERE } };
    const result = await sendWithRetries(() => start(variables), (r) => r.data?.startSellerOnboarding);
    const payload = result.data?.startSellerOnboarding;
    const refused = mutationProblem(result, payload, "payouts");
    if (refused || !payload?.onboardingUrl) {
      setProblem(refused ?? { code: "UNKNOWN", message: "Stripe did not give a set-up page. Please try again." });
      return;
    }
    setLeaving(true);
    window.location.assign(payload.onboardingUrl); // Stripe's page; it sends the seller back here
  };
  return (
    <>
      <ProblemMessage problem={problem} />
      <button type="button" className="primary" onClick={go} disabled={state.fetching || leaving}>
        {leaving ? "Taking you to Stripe…" : label}
      </button>
    </>
  );
}
