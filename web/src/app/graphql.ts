// Typed GraphQL documents: gql.tada reads the schema's types from graphql-env.d.ts, which
// `npm run build` generates from the committed ../schema.graphql (gql-tada generate output),
// and infers each operation's result and variables from its text. A query that does not fit
// the schema fails the build's typecheck.
import { initGraphQLTada } from "gql.tada";
import type { introspection } from "./graphql-env.d.ts";

export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: {
    // ISO-8601 in UTC, e.g. "2026-11-24T20:15:00Z"
    DateTime: string;
    // Money as a decimal string with two decimals, e.g. "20.00"; never a float here.
    Decimal: string;
    ID: string;
  };
}>();

export type { FragmentOf, ResultOf, VariablesOf } from "gql.tada";
export { readFragment } from "gql.tada";
