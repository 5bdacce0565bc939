// A holder's passes (issue 22): each seat's code as a QR code drawn here (the npm `qrcode`
// package, no server round trip), the code as text, its PDF, and its transfer to another account
// by e-mail: the offer, its pending state and its withdrawal. The gateway shows a code to its
// holder only; a pass without one (the seller's view, a void one) shows its state alone.
import QRCode from "qrcode";
import { useEffect, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { downloadTicket } from "../deliveryFiles";
import { mutationProblem, type Problem } from "../errors";
import type { ResultOf } from "../graphql";
import { OfferPassTransferMutation, WithdrawPassTransferMutation, type PassFields } from "../operations";
import { when } from "./OrderDelivery";
import { ProblemMessage } from "./Problem";

export type Pass = ResultOf<typeof PassFields>;

const STATE_WORDS: Record<string, string> = {
  ACTIVE: "Valid",
  TRANSFER_OFFERED: "Transfer offered",
  LISTED_FOR_RESALE: "Listed for resale",
  VOID: "No longer valid",
};

export function passSeat(pass: Pass): string {
  return pass.seatLabel ? `Seat ${pass.seatLabel}` : `Ticket ${pass.seat + 1}`;
}

/** The code as a QR code image (a data: URL, which the app's CSP allows for images). */
function QrCode({ code, label }: { code: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(code, { errorCorrectionLevel: "M", margin: 4, scale: 6 })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [code]);
  if (!src) return <div className="pass-qr" aria-busy="true" />;
  return <img className="pass-qr" src={src} alt={`QR code of ${label}`} data-testid="pass-qr" />;
}

export function PassCard({ pass, title, onChanged }: { pass: Pass; title?: string; onChanged?: () => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const label = `${title ? `${title}, ` : ""}${passSeat(pass).toLowerCase()}`;
  const savePdf = async () => {
    if (!pass.pdfUrl) return;
    setBusy(true);
    setProblem(await downloadTicket(pass.pdfUrl, `ticket-${pass.seatLabel ?? pass.seat + 1}.pdf`));
    setBusy(false);
  };
  return (
    <article className="pass" data-testid="pass" data-state={pass.state ?? ""}>
      <h3>
        {title ? `${title}: ` : ""}
        {passSeat(pass)}
      </h3>
      <dl className="facts">
        <dt>Status</dt>
        <dd data-testid="pass-state">
          {pass.state ? (STATE_WORDS[pass.state] ?? pass.state) : "Unknown"}
          {pass.state === "TRANSFER_OFFERED" && pass.offeredToEmail ? ` to ${pass.offeredToEmail}` : ""}
        </dd>
        {pass.enteredAt && (
          <>
            <dt>Entered</dt>
            <dd>{when(pass.enteredAt)}</dd>
          </>
        )}
      </dl>
      {pass.code && (
        <div className="pass-code">
          <QrCode code={pass.code} label={label} />
          <p>
            Show this code at the doors. Keep it to yourself: anyone with a copy could enter in your place.
          </p>
          <details>
            <summary>The code as text</summary>
            <code data-testid="pass-code">{pass.code}</code>
          </details>
          {pass.pdfUrl && (
            <button type="button" onClick={savePdf} disabled={busy} aria-busy={busy}>
              Download PDF
            </button>
          )}
        </div>
      )}
      <ProblemMessage problem={problem} />
      {pass.code && pass.state === "ACTIVE" && <TransferForm pass={pass} onChanged={onChanged} />}
      {pass.code && pass.state === "TRANSFER_OFFERED" && <WithdrawButton pass={pass} onChanged={onChanged} />}
    </article>
  );
}

function TransferForm({ pass, onChanged }: { pass: Pass; onChanged?: () => void }) {
  const [email, setEmail] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sending, offer] = useMutation(OfferPassTransferMutation);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const toEmail = email.trim();
    if (!toEmail.includes("@")) {
      setProblem({ code: "BAD_USER_INPUT", field: "toEmail", message: "Enter the e-mail address of the recipient's account." });
      return;
    }
    const done = await offer({ input: { passId: pass.id, toEmail, expectedVersion: pass.version } });
    const refused = mutationProblem(done, done.data?.offerPassTransfer, "transfer");
    setProblem(refused);
    if (!refused) {
      setEmail("");
      onChanged?.();
    }
  };
  const id = `transfer-${pass.id}`;
  return (
    <form onSubmit={submit} aria-label={`Transfer ${passSeat(pass).toLowerCase()}`} noValidate className="pass-transfer">
      <div className="field">
        <label htmlFor={id}>Transfer to (the recipient's account e-mail)</label>
        <input id={id} type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
      </div>
      <p className="hint">Your code stays valid until they accept; then it stops working and they get a new one.</p>
      <ProblemMessage problem={problem} />
      <button type="submit" disabled={sending.fetching} aria-busy={sending.fetching}>
        Transfer
      </button>
    </form>
  );
}

function WithdrawButton({ pass, onChanged }: { pass: Pass; onChanged?: () => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sending, withdraw] = useMutation(WithdrawPassTransferMutation);
  const click = async () => {
    const done = await withdraw({ input: { passId: pass.id } });
    const refused = mutationProblem(done, done.data?.withdrawPassTransfer, "transfer");
    setProblem(refused);
    if (!refused) onChanged?.();
  };
  return (
    <div className="pass-transfer">
      <p>Waiting for {pass.offeredToEmail ?? "the recipient"} to accept.</p>
      <ProblemMessage problem={problem} />
      <button type="button" onClick={click} disabled={sending.fetching} aria-busy={sending.fetching}>
        Withdraw the transfer
      </button>
    </div>
  );
}

/** An order's passes on its page, once delivered; nothing before. */
export function OrderPasses({ passes, onChanged }: { passes: readonly Pass[]; onChanged?: () => void }) {
  if (passes.length === 0) return null;
  return (
    <section className="passes" aria-labelledby="passes-heading">
      <h2 id="passes-heading">Your tickets</h2>
      <ul className="pass-list">
        {passes.map((pass) => (
          <li key={pass.id}>
            <PassCard pass={pass} onChanged={onChanged} />
          </li>
        ))}
      </ul>
    </section>
  );
}
