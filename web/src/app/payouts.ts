// A seller's payout set-up in words (issue 21): what the payment processor (Stripe) still needs,
// and why it does not pay out, said plainly. The API gives Stripe's own terms
// (`SellerAccount.requirementsDue`, `disabledReason`); an unknown term falls back to a general
// sentence, never to the raw code alone.

// Most specific first: the first prefix that a requirement starts with gives its words.
const REQUIREMENTS: readonly (readonly [string, string])[] = [
  ["individual.verification.additional_document", "An additional identity document"],
  ["individual.verification", "A photo of an identity document"],
  ["individual.first_name", "Your name"],
  ["individual.last_name", "Your name"],
  ["individual.dob", "Your date of birth"],
  ["individual.address", "Your home address"],
  ["individual.email", "Your email address"],
  ["individual.phone", "Your phone number"],
  ["individual.ssn_last_4", "The last 4 digits of your social security number"],
  ["individual.id_number", "Your national identity number"],
  ["individual", "Some personal details"],
  ["business_type", "Whether you sell as a person or a company"],
  ["business_profile.url", "A website or social profile where you sell"],
  ["business_profile.mcc", "What kind of business you are"],
  ["business_profile", "A few details about what you sell"],
  ["company", "Details of your company"],
  ["representative", "Details of the person representing your company"],
  ["owners", "Details of your company's owners"],
  ["directors", "Details of your company's directors"],
  ["external_account", "A bank account to be paid into"],
  ["tos_acceptance", "Your acceptance of Stripe's terms of service"],
  ["settings.payments.statement_descriptor", "The name shown on buyers' card statements"],
];

/** What Stripe still needs, in plain words, each said once, in the order first needed. */
export function requirementWords(due: readonly string[]): string[] {
  const words = due.map((term) => {
    const found = REQUIREMENTS.find(([prefix]) => term === prefix || term.startsWith(`${prefix}.`) || term.startsWith(`${prefix}[`));
    return found ? found[1] : "Some other details Stripe asks for";
  });
  return [...new Set(words)];
}

/** Why Stripe does not pay out, in plain words; null when it gave no reason. */
export function disabledReasonWords(reason: string | null | undefined): string | null {
  if (!reason) return null;
  if (reason === "requirements.past_due") return "Stripe needs the details below before it can pay you.";
  if (reason === "requirements.pending_verification") return "Stripe is checking the details you gave. This usually takes a few minutes, sometimes a day or two.";
  if (reason.startsWith("rejected.")) return "Stripe has declined to pay out to this account. Please contact us.";
  if (reason === "under_review") return "Stripe is reviewing this account. Please contact us if this lasts more than a few days.";
  if (reason === "platform_paused") return "Payouts to this account are paused by the marketplace. Please contact us.";
  return "Stripe has restricted payouts to this account. Please contact us.";
}

// A payout's state in plain words, for the seller it pays.

export interface PayoutState {
  status: string; // PayoutStatus; one this app does not know yet reads as pending
  dueAt?: string | null;
  paidAt?: string | null;
  reason?: string | null;
}

/** "Sat, Jan 9, 2027" in the reader's own time zone. */
export function payoutDay(iso: string): string {
  return new Intl.DateTimeFormat("en-US", { weekday: "short", year: "numeric", month: "short", day: "numeric" }).format(
    new Date(iso),
  );
}

export function payoutWords(payout: PayoutState): string {
  switch (payout.status) {
    case "WAITING_FOR_ONBOARDING":
      return "Waiting for you to set up payouts";
    case "SCHEDULED":
      return payout.dueAt ? `Scheduled for ${payoutDay(payout.dueAt)}` : "Scheduled for after the event";
    case "HELD":
      return payout.reason ? `Held: ${payout.reason}` : "Held";
    case "PAID":
      return payout.paidAt ? `Paid on ${payoutDay(payout.paidAt)}` : "Paid";
    case "REVERSED":
      return "Reversed";
    case "FAILED":
      return payout.reason ? `Failed: ${payout.reason}` : "Failed";
    default:
      return "Pending";
  }
}
