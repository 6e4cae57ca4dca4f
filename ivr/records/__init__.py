"""After the call: the anonymous record, its queue and spool, the store, statistics, upkeep.

- `record`: what is kept about a call, built from its log; queued once per call for a worker;
- `spool`: where the end of a call waits while Redis is unreachable;
- `store`: the records database (SQLite or PostgreSQL);
- `reports`: published statistics, with small cells hidden; `tags`: operators' categories;
- `maintenance`: failed jobs, the spool, retention.
"""
