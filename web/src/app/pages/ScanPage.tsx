// The scanner page (issue 22, /scan): a scanner picks one of the events they may scan at and
// their gate, then scans codes by camera or types them. Online, each code goes to scanTicket.
// Offline (the toggle, or the browser without a network), the page decides alone with the
// event's kit downloaded before (scanner/verify.ts, the README's verifier in the browser) and
// queues the admissions it makes; back online it syncs them and shows the double admissions the
// sync found.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useClient, useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/Problem";
import { describe, mutationProblem, type Problem } from "../errors";
import { MyScannerEventsQuery, OfflineKitQuery, ScanTicketMutation, SyncAdmissionsMutation } from "../operations";
import { Link } from "../router";
import { Camera } from "../scanner/Camera";
import { dequeue, enqueue, queued, saveKit, savedKit, type QueuedAdmission } from "../scanner/offline";
import { admittedOf, decide, type Kit, type Outcome } from "../scanner/verify";
import { useSession } from "../session";

const GATE = "scanner.gate";

interface Shown {
  outcome: Outcome | null;
  seat?: string | null;
  admittedAt: string | null;
  gate: string | null;
  offline: boolean;
}

interface DoubleAdmission {
  passId: string;
  entryAt: string | null;
  entryGate: string;
  otherAt: string | null;
  otherGate: string;
}

interface SyncReport {
  recorded: number;
  rejected: number;
  doubles: DoubleAdmission[];
}

const WORDS: Record<Outcome, { title: string; detail: string }> = {
  VALID: { title: "Valid", detail: "Admit: the entry is recorded." },
  ALREADY_SCANNED: { title: "Already scanned", detail: "This ticket was admitted before." },
  REVOKED: { title: "Revoked", detail: "An old code of a ticket that changed hands or was cancelled." },
  WRONG_EVENT: { title: "Wrong event", detail: "A ticket for another event." },
  INVALID_SIGNATURE: { title: "Invalid code", detail: "Not a ticket code the platform signed." },
};

function uuid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function at(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : "an unknown time";
}

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  return online;
}

export function ScanPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="Scan tickets">
        <p>
          <Link to={`/signin?next=${encodeURIComponent("/scan")}`}>Sign in</Link> to scan tickets at an event's doors.
        </p>
      </Page>
    );
  }
  return <Page title="Scan tickets">{user === undefined ? <Loading what="your events" /> : <Scanner />}</Page>;
}

function Scanner() {
  const [events] = useQuery({ query: MyScannerEventsQuery, requestPolicy: "cache-and-network" });
  const [chosen, setChosen] = useState<string | null>(null);
  const list = events.data?.myScannerEvents ?? [];
  const eventId = chosen ?? list[0]?.id ?? null;
  if (events.error && !events.data) return <ProblemMessage problem={describe(events.error, "load")} />;
  if (!events.data) return <Loading what="your events" />;
  if (list.length === 0) return <p>You are not a scanner at any event. The event's operator grants it.</p>;
  return (
    <>
      <label className="field">
        <span>Event</span>
        <select value={eventId ?? ""} onChange={(e) => setChosen(e.target.value)} data-testid="scan-event">
          {list.map((e) => (
            <option key={e.id} value={e.id}>
              {e.name} · {e.venue.name} · {new Date(e.startsAt).toLocaleString()}
            </option>
          ))}
        </select>
      </label>
      {eventId && <EventScanner key={eventId} eventId={eventId} />}
    </>
  );
}

function EventScanner({ eventId }: { eventId: string }) {
  const client = useClient();
  const online = useOnline();
  const [offlineChosen, setOfflineChosen] = useState(false);
  const offline = offlineChosen || !online;
  const [gate, setGate] = useState(() => window.localStorage.getItem(GATE) ?? "");
  const [typed, setTyped] = useState("");
  const [camera, setCamera] = useState(false);
  const [kit, setKit] = useState<Kit | null>(() => savedKit(eventId));
  const [queue, setQueue] = useState<QueuedAdmission[]>(() => queued(eventId));
  const [shown, setShown] = useState<Shown | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [report, setReport] = useState<SyncReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [, scanTicket] = useMutation(ScanTicketMutation);
  const [syncing, syncAdmissions] = useMutation(SyncAdmissionsMutation);

  useEffect(() => window.localStorage.setItem(GATE, gate), [gate]);

  const download = async () => {
    setProblem(null);
    const result = await client.query(OfflineKitQuery, { eventId }, { requestPolicy: "network-only" }).toPromise();
    const text = result.data?.offlineKit;
    if (!text) {
      setProblem(result.error ? describe(result.error, "load") : { code: "UNKNOWN", message: "No kit came back." });
      return;
    }
    setKit(saveKit(eventId, text));
  };

  const scan = useCallback(
    async (code: string) => {
      const text = code.trim();
      if (!text || !gate.trim()) return;
      setProblem(null);
      setBusy(true);
      try {
        if (offline) {
          if (!kit) {
            setProblem({ code: "UNKNOWN", message: "Download the event for offline use before scanning offline." });
            return;
          }
          const own = queued(eventId);
          const decision = await decide(text, kit, admittedOf(kit, own), new Date(), gate);
          if (decision.outcome === "VALID" && decision.passId && decision.admittedAt) {
            const admission = { id: uuid(), code: text, passId: decision.passId, admittedAt: decision.admittedAt, gate };
            setQueue(enqueue(eventId, admission));
          }
          setShown({ ...decision, offline: true });
          return;
        }
        const result = await scanTicket({ input: { eventId, code: text, gate } });
        const payload = result.data?.scanTicket;
        const refused = mutationProblem(result, payload, "load");
        if (refused || !payload?.result) {
          setShown(null);
          setProblem(refused);
          return;
        }
        setShown({ ...payload.result, offline: false });
      } finally {
        setBusy(false);
      }
    },
    [offline, kit, eventId, gate, scanTicket],
  );

  const sync = useCallback(async () => {
    const pending = queued(eventId);
    if (pending.length === 0) return;
    const admissions = pending.map(({ id, code, admittedAt, gate }) => ({ id, code, admittedAt, gate }));
    const result = await syncAdmissions({ input: { eventId, admissions } });
    const payload = result.data?.syncAdmissions;
    const refused = mutationProblem(result, payload, "load");
    if (refused || !payload) {
      setProblem(refused);
      return;
    }
    setQueue(dequeue(eventId, admissions.map((a) => a.id)));
    setReport({ recorded: payload.recorded, rejected: payload.rejectedIds.length, doubles: payload.doubleAdmissions });
  }, [eventId, syncAdmissions]);

  useEffect(() => {
    if (!offline && queue.length > 0 && !syncing.fetching) void sync();
    // Sync when the page comes back online (or starts online with a queue), not on every change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [offline]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void scan(typed).then(() => setTyped(""));
  };

  return (
    <div className="scanner" data-testid="scanner" data-offline={offline ? "true" : "false"}>
      <label className="field">
        <span>Gate</span>
        <input value={gate} maxLength={64} onChange={(e) => setGate(e.target.value)} placeholder="e.g. North" required />
      </label>
      {!gate.trim() && <p>Name your gate to start scanning.</p>}
      <fieldset className="scanner-mode">
        <legend>Network</legend>
        <label>
          <input type="checkbox" checked={offlineChosen} onChange={(e) => setOfflineChosen(e.target.checked)} /> Scan
          offline
        </label>
        <p data-testid="scanner-network">
          {offline ? (online ? "Offline (chosen)." : "Offline: no network.") : "Online: each scan asks the server."}{" "}
          {kit ? `Offline kit as of ${at(kit.as_of ?? null)}.` : "No offline kit yet."}
        </p>
        <button type="button" onClick={download} disabled={!online}>
          Download for offline
        </button>
      </fieldset>

      <form onSubmit={submit} className="scanner-typed">
        <label className="field">
          <span>Code</span>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} data-testid="scan-code" />
        </label>
        <button type="submit" disabled={busy || !typed.trim() || !gate.trim()}>
          Check
        </button>
        <button type="button" onClick={() => setCamera(!camera)}>
          {camera ? "Stop the camera" : "Use the camera"}
        </button>
      </form>
      {camera && <Camera onCode={(code) => void scan(code)} />}

      <ProblemMessage problem={problem} />
      {shown && <Outcome shown={shown} />}

      <section aria-label="Offline admissions">
        <p data-testid="scanner-queue">
          {queue.length === 1 ? "1 offline admission to sync." : `${queue.length} offline admissions to sync.`}
        </p>
        {queue.length > 0 && !offline && (
          <button type="button" onClick={() => void sync()} disabled={syncing.fetching}>
            Sync now
          </button>
        )}
        {report && <Report report={report} />}
      </section>
    </div>
  );
}

function Outcome({ shown }: { shown: Shown }) {
  const words = shown.outcome ? WORDS[shown.outcome] : { title: "Unknown", detail: "Do not admit; ask a supervisor." };
  const kind = (shown.outcome ?? "unknown").toLowerCase().replace(/_/g, "-");
  return (
    <div className={`scan-outcome scan-outcome-${kind}`} role="status" data-testid="scan-outcome" data-outcome={shown.outcome ?? ""}>
      <p className="scan-outcome-title">{words.title}</p>
      <p>{words.detail}</p>
      {shown.seat && <p>Seat {shown.seat}</p>}
      {shown.outcome === "ALREADY_SCANNED" && (
        <p data-testid="scan-earlier">
          Admitted at {at(shown.admittedAt)}
          {shown.gate ? `, gate ${shown.gate}` : ""}.
        </p>
      )}
      {shown.offline && <p className="scan-outcome-note">Decided offline: synced later.</p>}
    </div>
  );
}

function Report({ report }: { report: SyncReport }) {
  return (
    <div className="notice" data-testid="sync-report">
      <p>
        Synced: {report.recorded} new admission{report.recorded === 1 ? "" : "s"} recorded
        {report.rejected ? `, ${report.rejected} refused (their code did not verify)` : ""}.
      </p>
      {report.doubles.length > 0 && (
        <>
          <p>Admitted twice:</p>
          <ul data-testid="double-admissions">
            {report.doubles.map((d) => (
              <li key={`${d.passId}-${d.otherAt}`}>
                Pass {d.passId.slice(0, 8)}: entry at {at(d.entryAt)} (gate {d.entryGate || "?"}), again at{" "}
                {at(d.otherAt)} (gate {d.otherGate || "?"}).
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
