// Passes (issue 22): a delivered seat's platform code, shown to its holder as a QR code (with
// a PDF over HTTP, ../passFiles.ts), and its transfer to another account by e-mail.
import { graphql } from "../graphql";
import { UserErrorFields } from "./fragments";

export const PassFields = graphql(`
  fragment PassFields on Pass @_unmask {
    id
    seat
    seatLabel
    serial
    state
    code
    offeredToEmail
    issuedAt
    enteredAt
    version
    pdfUrl
    event {
      id
      name
      startsAt
    }
  }
`);

// The order page's: the passes of its seats, once delivered.
export const OrderPassesFields = graphql(
  `
    fragment OrderPassesFields on Order {
      passes {
        ...PassFields
      }
    }
  `,
  [PassFields],
);

export const MyPassesQuery = graphql(
  `
    query MyPasses($first: Int! = 20, $after: String) {
      myPasses(first: $first, after: $after) {
        nodes {
          ...PassFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [PassFields],
);

export const IncomingTransfersQuery = graphql(`
  query IncomingTransfers {
    incomingTransfers {
      passId
      seatLabel
      offeredAt
      event {
        id
        name
        startsAt
      }
    }
  }
`);

export const OfferPassTransferMutation = graphql(
  `
    mutation OfferPassTransfer($input: OfferPassTransferInput!) {
      offerPassTransfer(input: $input) {
        pass {
          ...PassFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [PassFields, UserErrorFields],
);

export const WithdrawPassTransferMutation = graphql(
  `
    mutation WithdrawPassTransfer($input: WithdrawPassTransferInput!) {
      withdrawPassTransfer(input: $input) {
        pass {
          ...PassFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [PassFields, UserErrorFields],
);

export const AcceptPassTransferMutation = graphql(
  `
    mutation AcceptPassTransfer($input: AcceptPassTransferInput!) {
      acceptPassTransfer(input: $input) {
        pass {
          ...PassFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [PassFields, UserErrorFields],
);
