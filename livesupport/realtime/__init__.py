"""Real time: the hub (local fan-out and presence), the wire frames and the brokers between processes."""
