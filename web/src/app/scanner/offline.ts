// What the scanner page keeps in this browser (localStorage) for offline entry, per event: the
// kit it downloaded (offlineKit) and the admissions it made offline, queued until a sync
// (syncAdmissions) records them. Each admission carries a UUID of its own, so a sync sent twice
// records it once.
import type { Kit } from "./verify";

export interface QueuedAdmission {
  id: string;
  code: string;
  passId: string;
  admittedAt: string;
  gate: string;
}

const KIT = "scanner.kit.";
const QUEUE = "scanner.queue.";

function read<T>(key: string): T | null {
  try {
    const text = window.localStorage.getItem(key);
    return text === null ? null : (JSON.parse(text) as T);
  } catch {
    return null;
  }
}

export function savedKit(eventId: string): Kit | null {
  return read<Kit>(KIT + eventId);
}

export function saveKit(eventId: string, kitJson: string): Kit {
  const kit = JSON.parse(kitJson) as Kit;
  window.localStorage.setItem(KIT + eventId, kitJson);
  return kit;
}

export function queued(eventId: string): QueuedAdmission[] {
  return read<QueuedAdmission[]>(QUEUE + eventId) ?? [];
}

export function enqueue(eventId: string, admission: QueuedAdmission): QueuedAdmission[] {
  const next = [...queued(eventId), admission];
  window.localStorage.setItem(QUEUE + eventId, JSON.stringify(next));
  return next;
}

/** The queue less the admissions a sync answered for (recorded, or rejected). */
export function dequeue(eventId: string, ids: readonly string[]): QueuedAdmission[] {
  const done = new Set(ids);
  const next = queued(eventId).filter((a) => !done.has(a.id));
  window.localStorage.setItem(QUEUE + eventId, JSON.stringify(next));
  return next;
}
