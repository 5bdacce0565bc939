// What a person reads when the API says no. Every code the gateway returns (extensions.code,
// listed in common/errors.py ErrorCode, plus PAYLOAD_TOO_LARGE from the body limit and
// CSRF_REFUSED from the cross-site guard) has a sentence here; tests/unit/test_web_errors.py
// keeps this table and the server's codes in step.
import type { CombinedError } from "@urql/core";

export type Action =
  | "load"
  | "signup"
  | "signin"
  | "signout"
  | "sell"
  | "edit"
  | "buy"
  | "cancel"
  | "pay";

export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYMENT_DECLINED"
  | "UNAVAILABLE"
  | "RATE_LIMITED"
  | "INTERNAL"
  | "PAYLOAD_TOO_LARGE"
  | "CSRF_REFUSED";

export interface Problem {
  /** The sentence to show. */
  message: string;
  /** The input it is about (a GraphQL argument name such as "price"), when the API names one. */
  field?: string;
  code: ErrorCode | "NETWORK" | "UNKNOWN";
  /** Offer to sign in (the session is missing or over). */
  signIn?: boolean;
}

const GENERAL: Record<ErrorCode, string> = {
  BAD_USER_INPUT: "Please check what you entered.",
  UNAUTHENTICATED: "You need to sign in first (or your session has ended).",
  FORBIDDEN: "You are not allowed to do that.",
  NOT_FOUND: "We could not find that. It may have been removed, or the link is wrong.",
  CONFLICT: "That cannot be done right now: something changed in the meantime. Reload and try again.",
  PAYMENT_DECLINED: "The payment was declined. Nothing was charged.",
  UNAVAILABLE: "Part of the marketplace is not answering right now. Please try again in a moment.",
  RATE_LIMITED: "Too many attempts in a short time. Please wait a little and try again.",
  INTERNAL: "Something went wrong on our side. Please try again; if it keeps happening, tell us.",
  PAYLOAD_TOO_LARGE: "What you sent is too large. Please shorten it and try again.",
  CSRF_REFUSED: "For your safety this request was refused, as if another site had sent it. Reload the page and try again.",
};

// Where the same code means something more precise for one action.
const FOR_ACTION: Partial<Record<Action, Partial<Record<ErrorCode, string>>>> = {
  signin: {
    UNAUTHENTICATED: "The email or the password is not right.",
    RATE_LIMITED: "Too many sign-in attempts. Please wait a few minutes and try again.",
  },
  signup: {
    CONFLICT: "There is already an account with this email. Sign in instead?",
    RATE_LIMITED: "Too many sign-ups from this network. Please try again later.",
  },
  buy: {
    CONFLICT: "Someone else has just reserved this ticket. If they do not pay in time, it goes back on sale.",
    FORBIDDEN: "This is your own ticket: you cannot buy it.",
    NOT_FOUND: "This ticket is no longer listed.",
  },
  edit: {
    CONFLICT: "This ticket is reserved by a buyer now, so it cannot be changed.",
    FORBIDDEN: "Only the seller can change this ticket.",
    NOT_FOUND: "This ticket is no longer listed.",
  },
  cancel: {
    CONFLICT: "This order can no longer be cancelled: it is already paid, cancelled or expired.",
    NOT_FOUND: "We could not find this order among yours.",
  },
  pay: {
    PAYMENT_DECLINED:
      "Your card was declined, so nothing was charged. This order is cancelled and the ticket is back on sale: you can order it again and pay with another card.",
    CONFLICT: "This order cannot be paid any more.",
    NOT_FOUND: "We could not find this order among yours.",
    UNAVAILABLE: "The payment service is not answering right now. Your card was not charged; please try again in a moment.",
  },
  load: {
    NOT_FOUND: "We could not find that. It may have been removed, or the link is wrong.",
  },
};

// Codes whose server message is written for the person and adds to ours.
const KEEP_SERVER_MESSAGE = new Set<ErrorCode>(["BAD_USER_INPUT", "CONFLICT", "PAYMENT_DECLINED"]);

function isCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && value in GENERAL;
}

function retryAfter(error: CombinedError): string {
  const response = error.response as Response | undefined;
  const seconds = Number(response?.headers?.get?.("retry-after"));
  if (!Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds < 90) return ` (about ${Math.ceil(seconds)} seconds)`;
  return ` (about ${Math.ceil(seconds / 60)} minutes)`;
}

/** A sentence for a failed operation; `action` is what the person was doing. */
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
  const specific = FOR_ACTION[action]?.[code];
  let message = specific ?? GENERAL[code];
  const detail = first.message?.trim() ?? "";
  const adds = detail !== "" && !message.toLowerCase().includes(detail.replace(/\.$/, "").toLowerCase());
  if (code === "BAD_USER_INPUT" && field && detail) {
    message = detail; // e.g. "Title must be at most 200 characters": about that input
  } else if (adds && (code === "PAYMENT_DECLINED" || (!specific && KEEP_SERVER_MESSAGE.has(code)))) {
    message = `${message} (${detail})`; // the bank's reason, or what exactly changed
  }
  if (code === "RATE_LIMITED") message = message.replace(/\.$/, `${retryAfter(error)}.`);
  return { code, message, field, signIn: code === "UNAUTHENTICATED" && action !== "signin" };
}
