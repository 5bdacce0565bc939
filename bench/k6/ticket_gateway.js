// ticket(id) through the gateway: the ids come from Python (TICKET_IDS, comma-separated), the
// same tickets the direct gRPC side (ticket_grpc.js) reads, so both sides do the same work
// (here as the API's global ids, GATEWAY_TICKET_IDS; there the service's own).
import { constantLoad, graphql, mark, measuring, opThresholds, writeSummary } from './lib.js';

const ids = __ENV.GATEWAY_TICKET_IDS.split(',');
const QUERY = 'query($id: ID!) { ticket(id: $id) { id title price { amount currencyCode } seller { id } version } }';

export const options = constantLoad({ thresholds: opThresholds('http_req_duration', ['ticket']) });

export function setup() {
  measuring();
}

export default function () {
  mark();
  graphql(QUERY, { id: ids[(__VU * 7 + __ITER) % ids.length] }, null, 'ticket');
  mark();
}

export const handleSummary = writeSummary;
