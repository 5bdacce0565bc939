// The offline scanner's decision (README "Ticket codes", "Verifying offline"): the browser's copy
// of the README's Python verifier, in the same order: base32 decode, the key ring (a retired key
// refuses), the Ed25519 signature (WebCrypto), the event, the revocation list, the admissions.
// No React, no DOM: tests/unit/test_web_scanner_verifier.py runs it in Node against
// tests/contract/ticket_code_vectors.json so that it agrees with the Python verifier.

export type Outcome = "VALID" | "ALREADY_SCANNED" | "REVOKED" | "WRONG_EVENT" | "INVALID_SIGNATURE";

export interface Jwk {
  kid: string;
  x: string;
  not_before?: string | null;
  retired_at?: string | null;
}

export interface KitAdmission {
  pass_id: string;
  at: string;
  gate?: string;
  id?: string;
}

/** The kit's JSON as the delivery service hands it (GetOfflineKit). */
export interface Kit {
  event_id: string;
  as_of?: string;
  keys: { keys: Jwk[] };
  revoked: { pass_id: string; valid_from: number }[];
  admissions: KitAdmission[];
}

export interface Code {
  eventId: string;
  passId: string;
  serial: number;
}

export interface Decision {
  outcome: Outcome;
  passId: string | null;
  /** VALID: this admission; ALREADY_SCANNED: the earlier one. */
  admittedAt: string | null;
  gate: string | null;
}

const PREFIX = "TK1";
const CODE_CHARS = 178;
const PAYLOAD_BYTES = 45;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (upper case, no padding) to bytes; null for a character outside it. */
export function base32Decode(text: string): Uint8Array<ArrayBuffer> | null {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (at < out.length) out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  const plain = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = plain + "=".repeat((4 - (plain.length % 4)) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function uuid(bytes: Uint8Array): string {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The event, pass and serial of a code a ring key valid at `now` signed; null otherwise. */
export async function readCode(text: string, keys: { keys: Jwk[] }, now: Date): Promise<Code | null> {
  const code = text.trim().toUpperCase();
  if (!code.startsWith(PREFIX) || code.length !== CODE_CHARS) return null;
  const raw = base32Decode(code.slice(PREFIX.length));
  if (raw === null) return null;
  const payload = raw.slice(0, PAYLOAD_BYTES);
  const signature = raw.slice(PAYLOAD_BYTES);
  const kid = hex(payload.slice(1, 5));
  const key = keys.keys.find((k) => k.kid === kid);
  if (payload[0] !== 1 || key === undefined) return null;
  if (key.retired_at && now.getTime() >= Date.parse(key.retired_at)) return null;
  let verified = false;
  try {
    const publicKey = await crypto.subtle.importKey("raw", base64UrlDecode(key.x), { name: "Ed25519" }, false, [
      "verify",
    ]);
    verified = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, payload);
  } catch {
    return null;
  }
  if (!verified) return null;
  const serial = ((payload[37] ?? 0) << 8) | (payload[38] ?? 0);
  return { eventId: uuid(payload.slice(5, 21)), passId: uuid(payload.slice(21, 37)), serial };
}

/** The admissions a scanner knows of, by pass: the kit's and its own. */
export type Admitted = Map<string, { at: string; gate: string }>;

export function admittedOf(kit: Kit, own: { passId: string; admittedAt: string; gate: string }[] = []): Admitted {
  const admitted: Admitted = new Map();
  for (const a of kit.admissions) admitted.set(a.pass_id, { at: a.at, gate: a.gate ?? "" });
  for (const a of own) if (!admitted.has(a.passId)) admitted.set(a.passId, { at: a.admittedAt, gate: a.gate });
  return admitted;
}

/** The decision on a scanned code; VALID records the admission in `admitted`. */
export async function decide(text: string, kit: Kit, admitted: Admitted, now: Date, gate: string): Promise<Decision> {
  const code = await readCode(text, kit.keys, now);
  if (code === null) return { outcome: "INVALID_SIGNATURE", passId: null, admittedAt: null, gate: null };
  const about = { passId: code.passId, admittedAt: null, gate: null };
  if (code.eventId !== kit.event_id) return { outcome: "WRONG_EVENT", ...about };
  if (kit.revoked.some((r) => r.pass_id === code.passId && code.serial < r.valid_from)) {
    return { outcome: "REVOKED", ...about };
  }
  const earlier = admitted.get(code.passId);
  if (earlier !== undefined) {
    return { outcome: "ALREADY_SCANNED", passId: code.passId, admittedAt: earlier.at, gate: earlier.gate };
  }
  const at = now.toISOString();
  admitted.set(code.passId, { at, gate });
  return { outcome: "VALID", passId: code.passId, admittedAt: at, gate };
}
