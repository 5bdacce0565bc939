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
      quantity
      total {
        ...MoneyFields
      }
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

// What an order of seats of an event adds (issue 20); the order page's, not the list's (its cost).
export const OrderSeatsFields = graphql(`
  fragment OrderSeatsFields on Order {
    seats
    listing {
      id
      section
      row
      event {
        id
        name
      }
    }
  }
`);

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
        ...OrderSeatsFields
      }
    }
  `,
  [OrderFields, OrderSeatsFields],
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

// The marketplace of events (issue 20): events found by words, an event's listings, a seller's own.
export const EventSummaryFields = graphql(
  `
    fragment EventSummaryFields on Event @_unmask {
      id
      name
      startsAt
      status
      category
      venue {
        name
        city
        timeZone
      }
      lowestPrice {
        ...MoneyFields
      }
      ticketCount
    }
  `,
  [MoneyFields],
);

export const ListingFields = graphql(
  `
    fragment ListingFields on Listing @_unmask {
      id
      quantity
      available
      section
      row
      seats
      price {
        ...MoneyFields
      }
      faceValue {
        ...MoneyFields
      }
      splitRule
      allowedQuantities
      deliveryMethod
      notes
      state
      version
      seller {
        id
      }
    }
  `,
  [MoneyFields],
);

export const EventsQuery = graphql(
  `
    query Events($query: String, $filter: EventFilter, $sort: EventSort, $first: Int!, $after: String) {
      events(query: $query, filter: $filter, sort: $sort, first: $first, after: $after) {
        totalCount
        facets {
          categories {
            value
            count
          }
          cities {
            value
            count
          }
        }
        nodes {
          ...EventSummaryFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [EventSummaryFields],
);

export const EventQuery = graphql(
  `
    query Event($id: ID!, $after: String) {
      event(id: $id) {
        ...EventSummaryFields
        endsAt
        performers {
          name
        }
        listings(first: 20, after: $after) {
          nodes {
            ...ListingFields
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  `,
  [EventSummaryFields, ListingFields],
);

export const MyListingsQuery = graphql(
  `
    query MyListings($after: String) {
      myListings(first: 20, after: $after) {
        nodes {
          ...ListingFields
          event {
            ...EventSummaryFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [ListingFields, EventSummaryFields],
);

export const CreateListingMutation = graphql(
  `
    mutation CreateListing($input: CreateListingInput!) {
      createListing(input: $input) {
        listing {
          ...ListingFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [ListingFields, UserErrorFields],
);

export const WithdrawListingMutation = graphql(
  `
    mutation WithdrawListing($input: WithdrawListingInput!) {
      withdrawListing(input: $input) {
        listing {
          ...ListingFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [ListingFields, UserErrorFields],
);
