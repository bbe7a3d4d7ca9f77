"""The pipeline's engine: durable job rows (jobs.py), running one stage per transaction (runner.py), the
two backends that run jobs (inprocess.py: threads in the web process; procrastinate_backend.py: workers
on PostgreSQL), the one the entry point connects (backend.py), and periodic upkeep (maintenance.py)."""
