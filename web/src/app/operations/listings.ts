// A seller's listings of an event's seats (issue 20): their own, and create, edit and withdraw.
import { graphql } from "../graphql";
import { EventSummaryFields, ListingFields, MoneyFields, UserErrorFields } from "./fragments";

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

export const UpdateListingMutation = graphql(
  `
    mutation UpdateListing($input: UpdateListingInput!) {
      updateListing(input: $input) {
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

// The sell form's "you receive": payments' quote for a price, with the event's own fees when it
// has some (the app computes no fee itself).
export const FeeQuoteQuery = graphql(
  `
    query FeeQuote($price: MoneyInput!, $eventId: ID) {
      feeQuote(price: $price, eventId: $eventId) {
        allInPrice {
          ...MoneyFields
        }
        sellerCommission {
          ...MoneyFields
        }
        sellerProceeds {
          ...MoneyFields
        }
      }
    }
  `,
  [MoneyFields],
);
