"""The simulated AWS resources, knowing nothing of functions: buckets (folders), queues,
tables (SQLite files with streams); each keeps its durable state under ``state_dir``."""
