"""Publishing a roster edit from the console, and bringing the working folder up to date.

A roster edit is published as `ivr publish` publishes: the same `publish` (the same checks, the
same store, history and announcement), on the files of the version in force with the new
roster, so another supervisor's unfinished edits in the working folders are never published
with it. If someone published between the moment the console read the version in force and
this publication, the store refuses, and the supervisor looks again (their change was made to a
roster that is no longer the one in force).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ivr.i18n import N_
from ivr.library.files import MemorySource
from ivr.library.pipeline import Options
from ivr.library.publish import Outcome, publish
from ivr.library.roster_edits import Edit, EditError, apply, with_roster
from ivr.library.snapshot import ROSTER_FILE, version_of
from ivr.library.store import SnapshotStore, StoreError

MEANWHILE = N_("someone published a newer version meanwhile; look again and redo the change")


def publish_edit(store: SnapshotStore, files: Mapping[str, bytes], edit: Edit, options: Options,
                 by: str, message: str) -> Outcome:
    """Make `edit` to the roster of `files` (the version in force when the console read it) and
    put the result in force. EditError when the edit cannot be made or another version was put
    in force since; LoadError with every problem when the checks refuse it (kept in the store
    for `ivr status`, as `ivr publish` keeps a refusal)."""
    text = apply(files[ROSTER_FILE].decode("utf-8"), edit)
    try:
        return publish(store, MemorySource(with_roster(files, text)), options, by, message,
                       expected=version_of(files))
    except StoreError:
        raise EditError(MEANWHILE) from None


def sync_working_copy(flows_dir: Path, old_text: str, new_text: str) -> bool:
    """After a publication, write the new roster into the working folder if it still holds the
    roster that was in force (`old_text`): nobody has an unpublished edit of it there. Otherwise
    leave it, and return False: the working copy must be merged by hand (`ivr status` says it
    differs from the version in force)."""
    path = flows_dir / Path(ROSTER_FILE).name
    try:
        if path.read_bytes() != old_text.encode("utf-8"):
            return False
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return False
    try:
        handle, temporary = tempfile.mkstemp(dir=flows_dir, prefix=".roster.yaml.")  # hidden
    except OSError:
        return False  # a folder this process may not write (a read-only image): left as it is
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(new_text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True

