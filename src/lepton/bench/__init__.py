"""The benchmark suite: lepton against the tools people use, in one process, interleaved."""
