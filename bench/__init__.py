"""mxtorch's benchmark suite (issue 5): ``python -m bench`` runs every workload under every
peer, each in its own process, and prints one table of ratios measured in the same run.
run.py orchestrates, worker.py runs one peer, workloads.py sizes the work; soak.py is the
separate memory-flatness check. Importing this package imports no framework.
"""
