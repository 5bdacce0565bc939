import { useMutation } from "urql";
import { Page } from "../components/Page";
import { TicketForm } from "../components/TicketForm";
import { describe } from "../errors";
import { CreateTicketMutation } from "../operations";
import { Link, navigate } from "../router";
import { useSession } from "../session";

export function SellPage() {
  const { user } = useSession();
  const [, createTicket] = useMutation(CreateTicketMutation);
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
      <TicketForm
        initial={{ title: "", price: "" }}
        submitLabel="List the ticket"
        onSubmit={async (values) => {
          const result = await createTicket(values);
          if (result.error) return describe(result.error, "sell");
          const id = result.data?.createTicket.id;
          if (id) navigate(`/tickets/${id}?listed=1`);
          return null;
        }}
      />
    </Page>
  );
}
