// Tickets: the list, one ticket, and a seller's create, update and withdraw.
import { graphql } from "../graphql";
import { MoneyFields, UserErrorFields } from "./fragments";

export const TicketFields = graphql(
  `
    fragment TicketFields on Ticket {
      id
      title
      price {
        ...MoneyFields
      }
      allInPrice {
        ...MoneyFields
      }
      state
      seller {
        id
      }
      version
    }
  `,
  [MoneyFields],
);

export const TicketsQuery = graphql(
  `
    query Tickets($first: Int!, $after: String) {
      tickets(first: $first, after: $after) {
        nodes {
          ...TicketFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [TicketFields],
);

export const TicketQuery = graphql(
  `
    query Ticket($id: ID!) {
      ticket(id: $id) {
        ...TicketFields
      }
    }
  `,
  [TicketFields],
);

export const CreateTicketMutation = graphql(
  `
    mutation CreateTicket($input: CreateTicketInput!) {
      createTicket(input: $input) {
        ticket {
          ...TicketFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [TicketFields, UserErrorFields],
);

export const UpdateTicketMutation = graphql(
  `
    mutation UpdateTicket($input: UpdateTicketInput!) {
      updateTicket(input: $input) {
        ticket {
          ...TicketFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [TicketFields, UserErrorFields],
);

export const WithdrawTicketMutation = graphql(
  `
    mutation WithdrawTicket($input: WithdrawTicketInput!) {
      withdrawTicket(input: $input) {
        ticket {
          ...TicketFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [TicketFields, UserErrorFields],
);
