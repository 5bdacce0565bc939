// GetTicket straight to the tickets service over gRPC, the service described by its server
// reflection (no .proto needed); no token, as the gateway's ticket(id) sends none.
import grpc from 'k6/net/grpc';
import { failures, constantLoad, mark, measuring, opThresholds, writeSummary } from './lib.js';

const ids = __ENV.TICKET_IDS.split(',');
const client = new grpc.Client();
let failures_shown = 0;

export const options = constantLoad({ thresholds: opThresholds('grpc_req_duration', ['ticket']) });

export function setup() {
  measuring();
}

export default function () {
  if (__ITER === 0) client.connect(__ENV.GRPC_ADDR, { plaintext: true, reflect: true });
  mark();
  const res = client.invoke(
    'ticketing.tickets.v1.TicketsService/GetTicket',
    { id: ids[(__VU * 7 + __ITER) % ids.length] },
    { tags: { op: 'ticket' } },
  );
  if (!res || res.status !== grpc.StatusOK) {
    failures.add(1, { op: 'ticket' });
    if (failures_shown++ < 3) console.error(`FAILED ticket: ${res && res.status} ${res && JSON.stringify(res.error)}`);
  }
  mark();
}

export const handleSummary = writeSummary;
