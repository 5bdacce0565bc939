// Entry at an event's doors (issue 22): the scanner page's events, online scans, the offline kit
// and the sync of the admissions it made offline.
import { graphql } from "../graphql";
import { UserErrorFields } from "./fragments";

export const MyScannerEventsQuery = graphql(`
  query MyScannerEvents {
    myScannerEvents {
      id
      name
      startsAt
      venue {
        name
      }
    }
  }
`);

export const OfflineKitQuery = graphql(`
  query OfflineKit($eventId: ID!) {
    offlineKit(eventId: $eventId)
  }
`);

export const ScanTicketMutation = graphql(
  `
    mutation ScanTicket($input: ScanTicketInput!) {
      scanTicket(input: $input) {
        result {
          outcome
          passId
          seat
          admittedAt
          gate
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [UserErrorFields],
);

export const SyncAdmissionsMutation = graphql(
  `
    mutation SyncAdmissions($input: SyncAdmissionsInput!) {
      syncAdmissions(input: $input) {
        recorded
        rejectedIds
        doubleAdmissions {
          passId
          entryAdmissionId
          entryAt
          entryGate
          otherAdmissionId
          otherAt
          otherGate
        }
        userErrors {
          ...UserErrorFields
        }
      }
    }
  `,
  [UserErrorFields],
);
