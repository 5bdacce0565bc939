// Every operation the app sends, in one place: the schema's contract as this app uses it.
// Each one is exported: `make web` writes the persisted-operations manifest (PQ-3, the
// allow-list) from the exports of this file, so an operation defined elsewhere would be refused
// in allow-list mode.
import { graphql } from "./graphql";

export const MoneyFields = graphql(`
  fragment MoneyFields on Money @_unmask {
    amount
    currencyCode
  }
`);

export const UserErrorFields = graphql(`
  fragment UserErrorFields on UserError @_unmask {
    code
    field
    message
  }
`);

export const TicketFields = graphql(
  `
    fragment TicketFields on Ticket {
      id
      title
      price {
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

export const OrderFields = graphql(
  `
    fragment OrderFields on Order {
      id
      status
      cancelReason
      price {
        ...MoneyFields
      }
      expiresAt
      version
      ticket {
        ...TicketFields
      }
      payment {
        id
        status
        amount {
          ...MoneyFields
        }
        clientSecret
      }
    }
  `,
  [MoneyFields, TicketFields],
);

export const CurrentUserQuery = graphql(`
  query CurrentUser {
    currentUser {
      id
      email
    }
  }
`);

export const SignUpMutation = graphql(
  `
    mutation SignUp($input: SignUpInput!) {
      signUp(input: $input) {
        user {
          id
          email
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [UserErrorFields],
);

export const SignInMutation = graphql(
  `
    mutation SignIn($input: SignInInput!) {
      signIn(input: $input) {
        user {
          id
          email
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [UserErrorFields],
);

export const SignOutMutation = graphql(
  `
    mutation SignOut {
      signOut {
        user {
          id
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [UserErrorFields],
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

export const CreateOrderMutation = graphql(
  `
    mutation CreateOrder($input: CreateOrderInput!) {
      createOrder(input: $input) {
        order {
          ...OrderFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [OrderFields, UserErrorFields],
);

export const CancelOrderMutation = graphql(
  `
    mutation CancelOrder($input: CancelOrderInput!) {
      cancelOrder(input: $input) {
        order {
          ...OrderFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [OrderFields, UserErrorFields],
);

export const CreatePaymentMutation = graphql(
  `
    mutation CreatePayment($input: CreatePaymentInput!) {
      createPayment(input: $input) {
        payment {
          id
          status
          amount {
            ...MoneyFields
          }
          clientSecret
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [MoneyFields, UserErrorFields],
);

export const OrderQuery = graphql(
  `
    query Order($id: ID!) {
      order(id: $id) {
        ...OrderFields
      }
    }
  `,
  [OrderFields],
);

export const OrdersQuery = graphql(
  `
    query Orders($first: Int!, $after: String) {
      orders(first: $first, after: $after) {
        nodes {
          ...OrderFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [OrderFields],
);

export const OrderUpdatedSubscription = graphql(
  `
    subscription OrderUpdated($id: ID!) {
      orderUpdated(id: $id) {
        ...OrderFields
      }
    }
  `,
  [OrderFields],
);
