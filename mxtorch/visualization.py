"""``mx.viz``: print_summary (MXNet's layer table) and plot_network (graphviz)."""
