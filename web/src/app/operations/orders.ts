// Orders and their payment: place, cancel, pay, read one or the list, and follow one live.
import { graphql } from "../graphql";
import { MoneyFields, UserErrorFields } from "./fragments";
import { OrderDeliveryFields } from "./deliveries";
import { OrderPassesFields } from "./passes";
import { OrderRefundsFields } from "./refunds";
import { TicketFields } from "./tickets";

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
      charges {
        subtotal {
          ...MoneyFields
        }
        buyerFees {
          ...MoneyFields
        }
        total {
          ...MoneyFields
        }
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
        disputeStatus
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
        ...OrderRefundsFields
        ...OrderDeliveryFields
        ...OrderPassesFields
      }
    }
  `,
  [OrderFields, OrderSeatsFields, OrderRefundsFields, OrderDeliveryFields, OrderPassesFields],
);

export const OrdersQuery = graphql(
  `
    query Orders($first: Int! = 20, $after: String) {
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
