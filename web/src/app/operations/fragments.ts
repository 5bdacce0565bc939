// The fragments more than one responsibility spreads: money, typed user errors, an event's
// summary and a listing (issue 20).
import { graphql } from "../graphql";

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
      lowestAllInPrice {
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
      allInPrice {
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
