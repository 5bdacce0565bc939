// The operators' disputes (issue 21): the list to review, with each one's staged evidence, and
// the evidence they edit and submit. Pages of 20: a dispute costs ~25 (its evidence at most 19).
import { graphql } from "../graphql";
import { MoneyFields, UserErrorFields } from "./fragments";

export const DisputeFields = graphql(
  `
    fragment DisputeFields on Dispute @_unmask {
      id
      status
      reason
      amount {
        ...MoneyFields
      }
      evidenceDueAt
      submissionCount
      createdAt
      purchase {
        purchasedAt
        amountPaid {
          ...MoneyFields
        }
        paymentIntent
        charge
        buyerEmail
        deliveryRecord
        entryScan
        buyer {
          id
        }
        seller {
          id
        }
      }
      evidence {
        name
        value
      }
    }
  `,
  [MoneyFields],
);

export const DisputesQuery = graphql(
  `
    query Disputes($status: DisputeStatus, $after: String) {
      disputes(status: $status, first: 20, after: $after) {
        nodes {
          ...DisputeFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [DisputeFields],
);

export const SubmitDisputeEvidenceMutation = graphql(
  `
    mutation SubmitDisputeEvidence($input: SubmitDisputeEvidenceInput!) {
      submitDisputeEvidence(input: $input) {
        dispute {
          ...DisputeFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [DisputeFields, UserErrorFields],
);
