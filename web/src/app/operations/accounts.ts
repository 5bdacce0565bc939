// Signing up, in and out, and who is signed in.
import { graphql } from "../graphql";
import { UserErrorFields } from "./fragments";

export const CurrentUserQuery = graphql(`
  query CurrentUser {
    currentUser {
      id
      email
      isAdmin
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
          isAdmin
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
          isAdmin
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
