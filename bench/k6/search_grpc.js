// SearchEvents straight to the catalogue over gRPC (server reflection), the same searches as
// search_gateway.js (QUERIES_PATH: a JSON array of SearchEventsRequests in protobuf JSON), signed
// as the gateway signs them (SERVICE_TOKEN, made by Python for this run).
import { SharedArray } from 'k6/data';
import grpc from 'k6/net/grpc';
import { failures, constantLoad, mark, measuring, opThresholds, writeSummary } from './lib.js';

const searches = new SharedArray('searches', () => JSON.parse(open(__ENV.QUERIES_PATH)));
const client = new grpc.Client();
const metadata = { 'x-service-token': __ENV.SERVICE_TOKEN };
let failures_shown = 0;

export const options = constantLoad({ thresholds: opThresholds('grpc_req_duration', ['search']) });

export function setup() {
  measuring();
}

export default function () {
  if (__ITER === 0) client.connect(__ENV.GRPC_ADDR, { plaintext: true, reflect: true });
  mark();
  const res = client.invoke(
    'ticketing.catalogue.v1.CatalogueService/SearchEvents',
    searches[(__VU * 997 + __ITER) % searches.length],
    { metadata, tags: { op: 'search' } },
  );
  if (!res || res.status !== grpc.StatusOK) {
    failures.add(1, { op: 'search' });
    if (failures_shown++ < 3) console.error(`FAILED search: ${res && res.status} ${res && JSON.stringify(res.error)}`);
  }
  mark();
}

export const handleSummary = writeSummary;
