"""GraphQL subscriptions: `hub` (which subscription watches which id, in this process), `feed`
(the RabbitMQ queue of this process that feeds the hub), `streams` (what each subscription
pushes), `transport` (the WebSocket side of /graphql: graphql-transport-ws and its rules)."""
