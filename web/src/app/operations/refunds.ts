// Refunds (issue 21): a buyer's request and an order's refunds; the admins' money page: refund
// requests to decide, an order to refund, cancelled events' refund runs.
import { graphql } from "../graphql";
import { MoneyFields, UserErrorFields } from "./fragments";

export const RefundFields = graphql(
  `
    fragment RefundFields on Refund @_unmask {
      id
      state
      origin
      amount {
        ...MoneyFields
      }
      reason
      outcomeReason
      createdAt
      completedAt
    }
  `,
  [MoneyFields],
);

// The order page's: its refunds, from payments.
export const OrderRefundsFields = graphql(
  `
    fragment OrderRefundsFields on Order {
      refunds {
        ...RefundFields
      }
    }
  `,
  [RefundFields],
);

export const RequestRefundMutation = graphql(
  `
    mutation RequestRefund($input: RequestRefundInput!) {
      requestRefund(input: $input) {
        refund {
          ...RefundFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [RefundFields, UserErrorFields],
);

export const RefundRequestsQuery = graphql(
  `
    query RefundRequests($state: RefundState!, $first: Int) {
      refundRequests(state: $state, first: $first) {
        ...RefundFields
        orderRef
      }
    }
  `,
  [RefundFields],
);

export const RefundRunsQuery = graphql(`
  query RefundRuns($first: Int) {
    refundRuns(first: $first) {
      eventRef
      state
      total
      done
      skipped
      failed
      createdAt
      finishedAt
    }
  }
`);

export const RefundOrderMutation = graphql(
  `
    mutation RefundOrder($input: RefundOrderInput!) {
      refundOrder(input: $input) {
        refund {
          ...RefundFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [RefundFields, UserErrorFields],
);

export const DecideRefundRequestMutation = graphql(
  `
    mutation DecideRefundRequest($input: DecideRefundRequestInput!) {
      decideRefundRequest(input: $input) {
        refund {
          ...RefundFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [RefundFields, UserErrorFields],
);
