// A seller's payout set-up (issue 21): where they stand, and starting the processor's onboarding.
import { graphql } from "../graphql";
import { UserErrorFields } from "./fragments";

export const SellerAccountFields = graphql(`
  fragment SellerAccountFields on SellerAccount @_unmask {
    status
    canReceivePayouts
    requirementsDue
    disabledReason
  }
`);

export const SellerAccountQuery = graphql(
  `
    query SellerAccount {
      currentUser {
        id
        sellerAccount {
          ...SellerAccountFields
        }
      }
    }
  `,
  [SellerAccountFields],
);

export const StartSellerOnboardingMutation = graphql(
  `
    mutation StartSellerOnboarding($input: StartSellerOnboardingInput!) {
      startSellerOnboarding(input: $input) {
        onboardingUrl
        sellerAccount {
          ...SellerAccountFields
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [SellerAccountFields, UserErrorFields],
);
