// The marketplace's events (issue 20): found by words, filters and facets, and one event with its
// listings.
import { graphql } from "../graphql";
import { EventSummaryFields, ListingFields } from "./fragments";

export const EventsQuery = graphql(
  `
    query Events($query: String, $filter: EventFilter, $sort: EventSort, $first: Int!, $after: String) {
      events(query: $query, filter: $filter, sort: $sort, first: $first, after: $after) {
        totalCount
        facets {
          categories {
            value
            count
          }
          cities {
            value
            count
          }
        }
        nodes {
          ...EventSummaryFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [EventSummaryFields],
);

export const EventQuery = graphql(
  `
    query Event($id: ID!, $after: String) {
      event(id: $id) {
        ...EventSummaryFields
        endsAt
        performers {
          name
        }
        listings(first: 20, after: $after) {
          nodes {
            ...ListingFields
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  `,
  [EventSummaryFields, ListingFields],
);
