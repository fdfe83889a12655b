"""Measures, PDF rendering, trust bundles, Excel templates and annotated error workbooks."""
