"""benchmarks/gate_lora_latency.py refuses meaningless sizes before loading anything."""

import pytest


def test_sizes_under_one_are_one_line_errors():
    import gate_lora_latency

    for args in (["--n", "0"], ["--threads", "0"]):
        with pytest.raises(SystemExit, match="at least 1"):
            gate_lora_latency.main(args)
