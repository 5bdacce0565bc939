// Idempotency keys (docs/api.md IDEM-2, IDEM-6). A key is made when the person starts an action
// (the Buy button, the card form, the listing form is shown) and kept until that action
// succeeds or the person starts over, so a retry (after UNAVAILABLE, RATE_LIMITED or a lost
// response) is the identical request and the server answers it with the first one's result
// instead of doing it twice.
import type { CombinedError } from "@urql/core";
import { useCallback, useRef } from "react";
import { codeOf, retryAfterSeconds } from "./errors";

/** A random UUID v4: crypto.randomUUID where the page is a secure context, else built the same way. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface ActionKey {
  /** The key of the action under way. */
  current(): string;
  /** The action is over (done, or refused for good): the next one gets a new key. */
  renew(): void;
}

/** The idempotency key of one action, made when the component showing it first renders. */
export function useActionKey(): ActionKey {
  const key = useRef<string | null>(null);
  if (key.current === null) key.current = newIdempotencyKey();
  const current = useCallback(() => key.current!, []);
  const renew = useCallback(() => {
    key.current = newIdempotencyKey();
  }, []);
  return useRef({ current, renew }).current;
}

const TRIES = 5;
const BACKOFF_MS = [500, 1000, 2000, 4000];
// A Retry-After longer than this is not waited out behind a busy button: the person is told.
const LONGEST_WAIT_MS = 30_000;

/**
 * Whether the outcome is unknown or the server asked to come back: the request may be sent
 * again as it is. A lost response (no GraphQL answer at all), UNAVAILABLE or RATE_LIMITED.
 */
export function isRetryable(error: CombinedError | undefined): boolean {
  if (!error) return false;
  if (error.graphQLErrors.length === 0) return Boolean(error.networkError);
  const code = codeOf(error);
  return code === "UNAVAILABLE" || code === "RATE_LIMITED";
}

function waitMs(error: CombinedError, attempt: number): number {
  const asked = retryAfterSeconds(error);
  if (asked !== null) return asked * 1000;
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
  return base * (0.75 + Math.random() * 0.5); // jitter: many clients do not come back at once
}

const sleep = (ms: number) => new Promise<void>((resolve) => window.setTimeout(resolve, ms));

/**
 * Sends a keyed (or naturally idempotent) mutation, and the identical request again while its
 * payload is missing because the answer was UNAVAILABLE, RATE_LIMITED or lost: after Retry-After
 * when given, else 0.5 s, 1 s, 2 s, 4 s with jitter, at most 5 tries. `send` must send the same
 * variables every time. (A payload that came back is an answer, even if a field inside it
 * failed: it is not sent again.)
 */
export async function sendWithRetries<R extends { error?: CombinedError }>(
  send: () => Promise<R>,
  payloadOf: (result: R) => unknown,
): Promise<R> {
  let result = await send();
  for (let attempt = 0; attempt < TRIES - 1 && !payloadOf(result) && isRetryable(result.error); attempt++) {
    const ms = waitMs(result.error!, attempt);
    if (ms > LONGEST_WAIT_MS) break;
    await sleep(ms);
    result = await send();
  }
  return result;
}
