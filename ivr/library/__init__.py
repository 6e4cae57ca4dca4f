"""The definition layer: what supervisors edit, checked into snapshots, published, served.

- `files`, `yamlfile`: reading the working folders (or a version's files), within limits;
- `catalogue`, `recordings`, `flows`, `roster`, `regions`, `scenarios`, `schemas`: one reader
  per kind of file, each reporting problems with file and line;
- `pipeline`: every check, in one place, and the only way a `Snapshot` comes into being;
- `store`, `publish`, `changes`: published versions in Redis, history and rollback;
- `live`: the versions a router process serves, refreshed in the background; `cache`: a host's
  own copy of them; `watch`: the opt-in watcher that publishes on every edit;
- `audio_build`, `graph`: supervisors' tools (placeholder recordings, pictures of a flow).

The router never reads the working folders: it serves published snapshots only.
"""
