// Deliveries (issue 22): an order's delivery on its page, the seller's orders to deliver, and
// the seller's barcodes and mobile-transfer confirmation. E-ticket files go over HTTP
// (../deliveryFiles.ts), not GraphQL.
import { graphql } from "../graphql";
import { UserErrorFields } from "./fragments";

export const DeliveryFields = graphql(`
  fragment DeliveryFields on Delivery @_unmask {
    orderRef
    status
    method
    deliverBy
    deliveredAt
    quantity
    seats
    files {
      id
      filename
      contentType
      size
      seat
      url
    }
    barcodes
    transferNote
  }
`);

// The order page's: its delivery, from the delivery service.
export const OrderDeliveryFields = graphql(
  `
    fragment OrderDeliveryFields on Order {
      delivery {
        ...DeliveryFields
      }
    }
  `,
  [DeliveryFields],
);

export const DeliveriesToMakeQuery = graphql(
  `
    query DeliveriesToMake($first: Int! = 20, $after: String) {
      deliveries(role: SELLER, first: $first, after: $after) {
        nodes {
          ...DeliveryFields
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
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [DeliveryFields],
);

export const DeliverBarcodesMutation = graphql(
  `
    mutation DeliverBarcodes($input: DeliverBarcodesInput!) {
      deliverBarcodes(input: $input) {
        delivery {
          ...DeliveryFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [DeliveryFields, UserErrorFields],
);

export const ConfirmMobileTransferMutation = graphql(
  `
    mutation ConfirmMobileTransfer($input: ConfirmMobileTransferInput!) {
      confirmMobileTransfer(input: $input) {
        delivery {
          ...DeliveryFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [DeliveryFields, UserErrorFields],
);
