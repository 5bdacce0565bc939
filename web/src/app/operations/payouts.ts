// A seller's payouts (issue 21): what they are paid for each order sold, and when.
import { graphql } from "../graphql";

export const MyPayoutsQuery = graphql(`
  query MyPayouts($after: String) {
    payouts(first: 20, after: $after) {
      nodes {
        id
        status
        amount {
          amount
          currencyCode
        }
        dueAt
        paidAt
        reason
        createdAt
        listing {
          id
          section
          row
          seats
          event {
            id
            name
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);
