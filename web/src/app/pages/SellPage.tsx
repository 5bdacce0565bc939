import { useMutation } from "urql";
import { Page } from "../components/Page";
import { PayoutsNotice } from "../components/PayoutsNotice";
import { TicketForm } from "../components/TicketForm";
import { mutationProblem } from "../errors";
import { useActionKey, sendWithRetries } from "../idempotency";
import { readFragment } from "../graphql";
import { CreateTicketMutation, TicketFields } from "../operations";
import { Link, navigate } from "../router";
import { useSession } from "../session";

export function SellPage() {
  const { user } = useSession();
  if (user === null) {
    return (
      <Page title="Sell a ticket">
        <p>
          <Link to="/signin?next=%2Fsell">Sign in</Link> or <Link to="/signup?next=%2Fsell">create an account</Link> to
          sell a ticket.
        </p>
      </Page>
    );
  }
  return (
    <Page title="Sell a ticket">
      <PayoutsNotice />
      <ListingForm />
    </Page>
  );
}

/** The listing form; its idempotency key is made when it is shown, and kept until it lists. */
function ListingForm() {
  const [, createTicket] = useMutation(CreateTicketMutation);
  const key = useActionKey();
  return (
    <TicketForm
      initial={{ title: "", price: "", currencyCode: "USD" }}
      submitLabel="List the ticket"
      onSubmit={async ({ title, price, currencyCode }) => {
        const input = { title, price: { amount: price, currencyCode }, idempotencyKey: key.current() };
        const result = await sendWithRetries(() => createTicket({ input }), (r) => r.data?.createTicket);
        const payload = result.data?.createTicket;
        const problem = mutationProblem(result, payload, "sell");
        // Refused for good (userErrors): what the person sends next is a new listing.
        if (payload) key.renew();
        if (problem) return problem;
        if (payload?.ticket) navigate(`/tickets/${readFragment(TicketFields, payload.ticket).id}?listed=1`);
        return null;
      }}
    />
  );
}
