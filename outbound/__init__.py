"""Everything that leaves the gateway: rendering, the outbox and its dispatcher, transports."""
