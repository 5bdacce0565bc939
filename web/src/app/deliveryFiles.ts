// E-ticket files over HTTP (gateway/delivery_files.py): the seller's upload (multipart/form-data)
// and a file's download, saved as a blob. Both carry the session cookie as /graphql does; the
// upload also sends X-Requested-With, which the gateway's cross-site guard asks of a multipart
// POST (a browser preflights it, so another site cannot send it with the cookie).
import { CREDENTIALS, GRAPHQL_URL } from "./config";
import type { Problem } from "./errors";

const UPLOAD_PATH = "/api/deliveries/files";
// What a seller may upload: PDF or Apple Wallet passes (the delivery service reads the content).
export const ACCEPTED_FILES = ".pdf,.pkpass,application/pdf,application/vnd.apple.pkpass";

interface RestError {
  message?: string;
  code?: string;
}

async function problemOf(reply: Response): Promise<Problem> {
  let error: RestError = {};
  try {
    const body = (await reply.json()) as { errors?: RestError[] };
    error = body.errors?.[0] ?? {};
  } catch {
    // not JSON: the status says enough
  }
  const code = (error.code ?? "UNKNOWN") as Problem["code"];
  if (reply.status === 401) {
    return { code: "UNAUTHENTICATED", message: "You need to sign in first (or your session has ended).", signIn: true };
  }
  if (reply.status === 413) {
    return { code: "PAYLOAD_TOO_LARGE", message: error.message ?? "The files are too large together." };
  }
  return {
    code,
    message: error.message ?? "Something went wrong on our side. Please try again; if it keeps happening, tell us.",
  };
}

/** The seller's files for an order: one for every seat (`seat` null) or one per seat. */
export async function uploadTickets(
  orderId: string,
  files: readonly { file: File; seat: number | null }[],
): Promise<Problem | null> {
  const form = new FormData();
  form.append("orderId", orderId);
  for (const { file, seat } of files) form.append(seat === null ? "file" : `seat-${seat}`, file, file.name);
  try {
    const reply = await fetch(new URL(UPLOAD_PATH, GRAPHQL_URL), {
      method: "POST",
      body: form,
      credentials: CREDENTIALS,
      headers: { "X-Requested-With": "ticketing-web" },
    });
    return reply.ok ? null : await problemOf(reply);
  } catch {
    return { code: "NETWORK", message: "We cannot reach the marketplace. Check your connection and try again." };
  }
}

/** Fetches a delivered file and saves it under its name. */
export async function downloadTicket(url: string, filename: string): Promise<Problem | null> {
  try {
    const reply = await fetch(new URL(url, GRAPHQL_URL), { credentials: CREDENTIALS });
    if (!reply.ok) return await problemOf(reply);
    const blob = await reply.blob();
    const href = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = href;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
    return null;
  } catch {
    return { code: "NETWORK", message: "We cannot reach the marketplace. Check your connection and try again." };
  }
}
