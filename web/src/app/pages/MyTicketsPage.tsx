// "My tickets" (issue 22): the transfers offered to the person (to accept), then the passes they
// hold, soonest event first, each with its QR code, PDF and transfer.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps } from "../components/Paged";
import { PassCard } from "../components/Passes";
import { ProblemMessage } from "../components/Problem";
import { when } from "../components/OrderDelivery";
import { describe, mutationProblem, type Problem } from "../errors";
import type { ResultOf } from "../graphql";
import { AcceptPassTransferMutation, IncomingTransfersQuery, MyPassesQuery } from "../operations";
import { Link } from "../router";
import { useSession } from "../session";

const HERE = "/my-tickets";

export function MyTicketsPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="My tickets">
        <p>
          <Link to={`/signin?next=${encodeURIComponent(HERE)}`}>Sign in</Link> to see your tickets.
        </p>
      </Page>
    );
  }
  return (
    <Page title="My tickets">
      {user === undefined ? (
        <Loading what="your tickets" />
      ) : (
        <>
          <IncomingTransfers />
          <ul className="pass-list" aria-label="Your tickets">
            <Paged renderPage={(page) => <PassesChunk {...page} />} />
          </ul>
        </>
      )}
    </Page>
  );
}

function PassesChunk({ after, onMore }: PageProps) {
  const [result] = useQuery({ query: MyPassesQuery, variables: { after }, requestPolicy: "cache-and-network" });
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data) return <Loading what="your tickets" />;
  if (!result.data.myPasses) return <ProblemMessage problem={result.error ? describe(result.error, "load") : null} />;
  const { nodes, pageInfo } = result.data.myPasses;
  return (
    <>
      {nodes.length === 0 && after === null && (
        <li>
          <p>You hold no tickets yet. A ticket you bought shows here once the seller delivers it.</p>
        </li>
      )}
      {nodes.map((pass, index) =>
        pass ? (
          <li key={pass.id}>
            <PassCard pass={pass} title={pass.event?.name ?? "Your event"} />
          </li>
        ) : (
          <li key={`missing-${index}`}>This ticket cannot be shown right now.</li>
        ),
      )}
      <MoreItem pageInfo={pageInfo} onMore={onMore} label="Show more tickets" />
    </>
  );
}

type Incoming = NonNullable<ResultOf<typeof IncomingTransfersQuery>["incomingTransfers"]>[number];

function IncomingTransfers() {
  const [result, refetch] = useQuery({ query: IncomingTransfersQuery, requestPolicy: "cache-and-network" });
  if (result.error && !result.data) return <ProblemMessage problem={describe(result.error, "load")} />;
  const offers = result.data?.incomingTransfers ?? [];
  if (offers.length === 0) return null;
  return (
    <section className="incoming-transfers" aria-labelledby="incoming-heading">
      <h2 id="incoming-heading">Incoming transfers</h2>
      <ul className="pass-list">
        {offers.map((offer) => (
          <li key={offer.passId} data-testid="incoming-transfer">
            <IncomingOffer offer={offer} onAccepted={() => refetch({ requestPolicy: "network-only" })} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function IncomingOffer({ offer, onAccepted }: { offer: Incoming; onAccepted: () => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sending, accept] = useMutation(AcceptPassTransferMutation);
  const click = async () => {
    const done = await accept({ input: { passId: offer.passId } });
    const refused = mutationProblem(done, done.data?.acceptPassTransfer, "accept");
    setProblem(refused);
    if (!refused) onAccepted();
  };
  const seat = offer.seatLabel ? `seat ${offer.seatLabel}` : "a ticket";
  return (
    <article className="pass">
      <p>
        <strong>{offer.event?.name ?? "An event"}</strong>: {seat}
        {offer.event?.startsAt ? `, ${when(offer.event.startsAt)}` : ""}
        {offer.offeredAt ? ` (offered ${when(offer.offeredAt)})` : ""}
      </p>
      <ProblemMessage problem={problem} />
      <button type="button" className="primary" onClick={click} disabled={sending.fetching} aria-busy={sending.fetching}>
        Accept
      </button>
    </article>
  );
}
