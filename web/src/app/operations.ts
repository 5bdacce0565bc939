// Every operation the app sends, in one place: the schema's contract as this app uses it.
import { graphql } from "./graphql";

export const TicketFields = graphql(`
  fragment TicketFields on Ticket {
    id
    title
    price
    userId
    version
    reserved
  }
`);

export const OrderFields = graphql(
  `
    fragment OrderFields on Order {
      id
      status
      cancelReason
      expiresAt
      version
      ticket {
        ...TicketFields
      }
      payment {
        id
        status
        amount
        clientSecret
      }
    }
  `,
  [TicketFields],
);

export const CurrentUserQuery = graphql(`
  query CurrentUser {
    currentUser {
      id
      email
    }
  }
`);

export const SignUpMutation = graphql(`
  mutation SignUp($email: String!, $password: String!) {
    signup(email: $email, password: $password) {
      user {
        id
        email
      }
    }
  }
`);

export const SignInMutation = graphql(`
  mutation SignIn($email: String!, $password: String!) {
    signin(email: $email, password: $password) {
      user {
        id
        email
      }
    }
  }
`);

export const SignOutMutation = graphql(`
  mutation SignOut {
    signout
  }
`);

export const TicketsQuery = graphql(
  `
    query Tickets($first: Int!, $after: String) {
      tickets(first: $first, after: $after) {
        edges {
          node {
            ...TicketFields
          }
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
    mutation CreateTicket($title: String!, $price: Decimal!) {
      createTicket(title: $title, price: $price) {
        id
        ...TicketFields
      }
    }
  `,
  [TicketFields],
);

export const UpdateTicketMutation = graphql(
  `
    mutation UpdateTicket($id: ID!, $title: String!, $price: Decimal!) {
      updateTicket(id: $id, title: $title, price: $price) {
        ...TicketFields
      }
    }
  `,
  [TicketFields],
);

export const CreateOrderMutation = graphql(
  `
    mutation CreateOrder($ticketId: ID!) {
      createOrder(ticketId: $ticketId) {
        id
        ...OrderFields
      }
    }
  `,
  [OrderFields],
);

export const CancelOrderMutation = graphql(
  `
    mutation CancelOrder($id: ID!) {
      cancelOrder(id: $id) {
        ...OrderFields
      }
    }
  `,
  [OrderFields],
);

export const CreatePaymentMutation = graphql(`
  mutation CreatePayment($orderId: ID!, $paymentMethod: String!) {
    createPayment(orderId: $orderId, paymentMethod: $paymentMethod) {
      id
      status
      amount
      clientSecret
    }
  }
`);

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
        edges {
          node {
            ...OrderFields
          }
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
