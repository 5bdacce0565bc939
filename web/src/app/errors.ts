// What a person reads when the API says no. Two tables, as the API has two kinds of error
// (docs/api.md §12):
// - GENERAL: every top-level code (errors[].extensions.code): the request could not be judged
//   or the server failed. Includes the body limit's PAYLOAD_TOO_LARGE, the cross-site guard's
//   CSRF_REFUSED and the persisted-query codes.
// - USER_ERRORS: every UserErrorCode, returned in a mutation payload's userErrors (MUT-2): the
//   input was refused or the world changed. A client reads userErrors first, always.
// tests/unit/test_web_errors.py keeps both tables in step with the guide's catalogue, the
// schema's UserErrorCode enum and the server's codes.
import type { CombinedError } from "@urql/core";
import type { ResultOf } from "./graphql";
import type { UserErrorFields } from "./operations";

export type Action =
  | "load"
  | "signup"
  | "signin"
  | "signout"
  | "sell"
  | "edit"
  | "editListing"
  | "withdraw"
  | "buy"
  | "cancel"
  | "pay"
  | "payouts"
  | "requestRefund"
  | "refund"
  | "dispute"
  | "deliver"
  | "transfer"
  | "accept";

export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "COST_LIMIT"
  | "RATE_LIMITED"
  | "UNAVAILABLE"
  | "PERSISTED_QUERY_NOT_FOUND"
  | "OPERATION_NOT_REGISTERED"
  | "INTERNAL"
  | "PAYLOAD_TOO_LARGE"
  | "CSRF_REFUSED";

export type UserErrorCode =
  | "BAD_USER_INPUT"
  | "INVALID_CREDENTIALS"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "CONFLICT"
  | "PAYMENT_DECLINED"
  | "IDEMPOTENCY_KEY_REUSED";

// The schema's own UserErrorCode (read by gql.tada) must be exactly the one above: a code added
// to the schema without a sentence here fails the build's typecheck.
type SchemaUserErrorCode = ResultOf<typeof UserErrorFields>["code"];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const USER_ERROR_CODES_MATCH_THE_SCHEMA: Same<SchemaUserErrorCode, UserErrorCode> = true;

export type UserError = ResultOf<typeof UserErrorFields>;

export interface Problem {
  /** The sentence to show. */
  message: string;
  /** The input it is about ("price", "email", "expectedVersion"), when the API names one. */
  field?: string;
  code: ErrorCode | UserErrorCode | "NETWORK" | "UNKNOWN";
  /** Offer to sign in (the session is missing or over). */
  signIn?: boolean;
}

const GENERAL: Record<ErrorCode, string> = {
  BAD_USER_INPUT: "Please check what you entered.",
  UNAUTHENTICATED: "You need to sign in first (or your session has ended).",
  FORBIDDEN: "You are not allowed to see or do that.",
  NOT_FOUND: "We could not find that. It may have been removed, or the link is wrong.",
  COST_LIMIT: "That asks for too much at once. Please ask for fewer items and try again.",
  RATE_LIMITED: "Too many attempts in a short time. Please wait a little and try again.",
  UNAVAILABLE: "Part of the marketplace is not answering right now. Please try again in a moment.",
  PERSISTED_QUERY_NOT_FOUND: "The marketplace did not recognise this request. Please reload the page and try again.",
  OPERATION_NOT_REGISTERED: "This version of the app is out of date. Please reload the page to get the current one.",
  INTERNAL: "Something went wrong on our side. Please try again; if it keeps happening, tell us.",
  PAYLOAD_TOO_LARGE: "What you sent is too large. Please shorten it and try again.",
  CSRF_REFUSED: "For your safety this request was refused, as if another site had sent it. Reload the page and try again.",
};

const USER_ERRORS: Record<UserErrorCode, string> = {
  BAD_USER_INPUT: "Please check what you entered.",
  INVALID_CREDENTIALS: "The email or the password is not right.",
  NOT_FOUND: "We could not find that. It may have been removed, or the link is wrong.",
  FORBIDDEN: "You are not allowed to do that.",
  CONFLICT: "That cannot be done right now: something changed in the meantime. Reload and try again.",
  PAYMENT_DECLINED: "The payment was declined. Nothing was charged.",
  IDEMPOTENCY_KEY_REUSED: "This was already sent once with other details, so nothing was done. Reload the page and start again.",
};

// A stale expectedVersion: someone (another tab of the same seller) changed it first.
const STALE = "This ticket was changed somewhere else (another tab or device) since you opened it. It now shows the current version: check it and try again.";

// Where the same code means something more precise for one action.
const FOR_ACTION: Partial<Record<Action, Partial<Record<ErrorCode | UserErrorCode, string>>>> = {
  transfer: {
    CONFLICT: "This ticket cannot be transferred now: it is listed for resale, offered already, used for entry, or its event has started.",
    NOT_FOUND: "This ticket is not yours to transfer any more.",
  },
  accept: {
    CONFLICT: "This transfer is no longer open: the sender withdrew it, or the ticket changed.",
    NOT_FOUND: "This transfer is not open to you any more.",
  },
  signin: {
    RATE_LIMITED: "Too many sign-in attempts. Please wait a few minutes and try again.",
  },
  dispute: {
    CONFLICT: "This dispute is closed: it takes no more evidence.",
    FORBIDDEN: "Only operators (the admin role) can answer disputes.",
    NOT_FOUND: "This dispute is not known any more.",
  },
  signup: {
    CONFLICT: "There is already an account with this email. Sign in instead?",
    RATE_LIMITED: "Too many sign-ups from this network. Please try again later.",
  },
  buy: {
    CONFLICT: "This ticket is not for sale any more: someone else has ordered it, or the seller took it off sale.",
    FORBIDDEN: "This is your own ticket: you cannot buy it.",
    NOT_FOUND: "This ticket is no longer listed.",
  },
  edit: {
    CONFLICT: "This ticket is held or sold now, so it cannot be changed.",
    FORBIDDEN: "Only the seller can change this ticket.",
    NOT_FOUND: "This ticket is no longer listed.",
  },
  editListing: {
    FORBIDDEN: "Only the seller can change this listing.",
    NOT_FOUND: "This listing is no longer listed.",
  },
  withdraw: {
    CONFLICT: "This ticket is held or sold now, so it cannot be taken off sale.",
    FORBIDDEN: "Only the seller can take this ticket off sale.",
    NOT_FOUND: "This ticket is no longer listed.",
  },
  cancel: {
    CONFLICT: "This order can no longer be cancelled: it is already paid or being paid.",
    NOT_FOUND: "We could not find this order among yours.",
  },
  pay: {
    PAYMENT_DECLINED:
      "Your card was declined, so nothing was charged. This order is cancelled and the ticket is back on sale: you can order it again and pay with another card.",
    CONFLICT: "This order cannot be paid any more.",
    NOT_FOUND: "We could not find this order among yours.",
    UNAVAILABLE: "The payment service is not answering right now. Your card was not charged; please try again in a moment.",
  },
  payouts: {
    CONFLICT:
      "An earlier attempt to set up your payouts, with another email address, has not finished. Please try again tomorrow.",
    UNAVAILABLE: "Stripe is not answering right now. Nothing was lost; please try again in a moment.",
  },
  requestRefund: {
    NOT_FOUND: "We could not find this order among yours.",
  },
  refund: {
    FORBIDDEN: "Only an admin can refund orders or decide refund requests.",
    NOT_FOUND: "There is no such order (or refund request).",
    UNAVAILABLE: "The payment service is not answering right now. Try again: nothing is refunded twice.",
  },
  deliver: {
    CONFLICT: "This order cannot be delivered now: it is not paid, already delivered, or its deadline has passed.",
    FORBIDDEN: "Only the order's seller can deliver it.",
    NOT_FOUND: "We could not find this order among your sales.",
  },
  load: {
    NOT_FOUND: "We could not find that. It may have been removed, or the link is wrong.",
  },
};

function isCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && value in GENERAL;
}

function isUserErrorCode(value: unknown): value is UserErrorCode {
  return typeof value === "string" && value in USER_ERRORS;
}

/** Seconds the server asked to wait (Retry-After), if it said. */
export function retryAfterSeconds(error: CombinedError): number | null {
  const response = error.response as Response | undefined;
  const seconds = Number(response?.headers?.get?.("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

function retryAfter(error: CombinedError): string {
  const seconds = retryAfterSeconds(error);
  if (seconds === null) return "";
  if (seconds < 90) return ` (about ${Math.ceil(seconds)} seconds)`;
  return ` (about ${Math.ceil(seconds / 60)} minutes)`;
}

/** The top-level code of a failed operation, if the server gave a known one. */
export function codeOf(error: CombinedError | undefined): ErrorCode | null {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return isCode(code) ? code : null;
}

/** A sentence for an operation refused at top level; `action` is what the person was doing. */
export function describe(error: CombinedError, action: Action): Problem {
  const [first] = error.graphQLErrors;
  if (!first) {
    if (error.networkError) {
      return {
        code: "NETWORK",
        message: "We cannot reach the marketplace. Check your connection and try again.",
      };
    }
    return { code: "UNKNOWN", message: GENERAL.INTERNAL };
  }
  const code = first.extensions?.code;
  if (!isCode(code)) return { code: "UNKNOWN", message: GENERAL.INTERNAL };
  const field = typeof first.extensions?.field === "string" ? first.extensions.field : undefined;
  let message = FOR_ACTION[action]?.[code] ?? GENERAL[code];
  const detail = first.message?.trim() ?? "";
  if (code === "BAD_USER_INPUT" && field && detail) message = detail;
  if (code === "RATE_LIMITED") message = message.replace(/\.$/, `${retryAfter(error)}.`);
  return { code, message, field, signIn: code === "UNAUTHENTICATED" && action !== "signin" };
}

/** The input a userError is about: ["input", "price", "amount"] is about "price". */
function inputName(path: readonly string[] | null | undefined): string | undefined {
  if (!path || path.length < 2 || path[0] !== "input") return undefined;
  return path[1];
}

/** A sentence for a mutation's userErrors (the first one: they come one per refused input). */
export function describeUserErrors(errors: readonly UserError[], action: Action): Problem {
  const [first] = errors;
  if (!first || !isUserErrorCode(first.code)) {
    return { code: "UNKNOWN", message: first?.message || GENERAL.INTERNAL };
  }
  const code = first.code;
  const field = inputName(first.field);
  const detail = first.message?.trim() ?? "";
  if (code === "CONFLICT" && field === "expectedVersion") return { code, field, message: STALE };
  const specific = FOR_ACTION[action]?.[code];
  let message = specific ?? USER_ERRORS[code];
  if (code === "BAD_USER_INPUT" && field && detail) {
    message = detail; // e.g. "Title must be at most 200 characters": about that input
  } else if (code === "CONFLICT" && action === "editListing" && field === "quantity" && detail) {
    message = detail; // "2 of these tickets are held or sold: the quantity cannot go below 2"
  } else if (code === "CONFLICT" && (action === "requestRefund" || action === "refund") && detail) {
    message = detail; // the refund policy's reason: "The event has started; ..."
  } else if (detail && !message.toLowerCase().includes(detail.replace(/\.$/, "").toLowerCase())) {
    if (code === "PAYMENT_DECLINED" || (!specific && (code === "BAD_USER_INPUT" || code === "CONFLICT"))) {
      message = `${message} (${detail})`; // the bank's reason, or what exactly changed
    }
  }
  // Wrong credentials are about the pair, not the one field the API names.
  return { code, message, field: code === "INVALID_CREDENTIALS" ? undefined : field };
}

/**
 * What went wrong with a mutation, or null when it did what was asked: its payload's userErrors
 * first (MUT-2: a payload with none holds the result, whatever a nested field's error says),
 * then the top-level error that nulled the payload.
 */
export function mutationProblem(
  result: { error?: CombinedError },
  payload: { userErrors: readonly UserError[] } | null | undefined,
  action: Action,
): Problem | null {
  if (payload) return payload.userErrors.length > 0 ? describeUserErrors(payload.userErrors, action) : null;
  if (result.error) return describe(result.error, action);
  return { code: "UNKNOWN", message: GENERAL.INTERNAL };
}
