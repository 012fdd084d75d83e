"""Reports are queries over the Parquet data lake (DuckDB), never over a crawler's in-memory state: they work the
same on the output of one machine or of a cluster, and on any past crawl."""
