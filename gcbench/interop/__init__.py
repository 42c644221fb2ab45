"""Conversions between :class:`~gcbench.graph.Graph` and other graph libraries (optional extras).

``gcbench.interop.dgl``: DGL (``pip install 'gcbench[dgl]'``). Nothing here is imported by the core, and the
third-party library itself is imported only when a conversion is called.
"""
