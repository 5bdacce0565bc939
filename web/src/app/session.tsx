// Who is signed in: asked once from currentUser, then set by sign-in, sign-up and sign-out.
import { createContext, useContext } from "react";

export interface User {
  id: string;
  /** Null only if the API did not say (it is the caller's own address, NULL-7). */
  email: string | null;
  /**
   * Holds the admin role (an operator), as their session shows it: what the app shows them (the
   * Money link). A hint only: the API refuses an operator's query to anyone else (FORBIDDEN).
   */
  isAdmin?: boolean | null;
}

export interface Session {
  /** undefined while the first answer is on its way; null when signed out. */
  user: User | null | undefined;
  /** After sign-in, sign-up or sign-out: a fresh client (cache and socket) for the new user. */
  changed(user: User | null): void;
  stripe: { jsUrl: string; publishableKey: string | null };
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside <SessionContext>");
  return session;
}
