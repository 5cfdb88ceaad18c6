"""The simulated AWS resources, knowing nothing of functions: buckets (folders), queues,
tables (SQLite files with streams), topics and buses; each keeps its durable state under
``state_dir``. ``base.Source`` is what a resource that watches something (a bucket) is."""
