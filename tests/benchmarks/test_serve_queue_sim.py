"""benchmarks/serve_queue_sim.py: the queue model behind `sashimi serve --batch-wait-ms` (RESULTS §8)."""

import serve_queue_sim as sim


def test_the_batch_wait_lowers_p95_at_the_same_throughput():
    without, with_wait = sim.simulate(0, requests=5000), sim.simulate(30, requests=5000)
    assert with_wait["p95_ms"] < 0.8 * without["p95_ms"]  # the two workers' take-turns rhythm is gone
    assert abs(with_wait["requests_per_s"] - without["requests_per_s"]) < 0.05 * without["requests_per_s"]


def test_the_simulation_is_seeded():
    assert sim.simulate(20, requests=3000, seed=1) == sim.simulate(20, requests=3000, seed=1)
