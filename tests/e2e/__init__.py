"""End-to-end suite: the generated configuration in the real Prometheus and Alertmanager."""
