"""Publishing as supervisors and routers meet it: a checked version is put in force on every
process, calls keep the version they started on, and nothing on disk reaches a caller unchecked."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask import Flask

from ivr.calls.keys import Keys
from ivr.cli import main
from ivr.library.schemas import fingerprint
from ivr.library.snapshot import digest, version_of
from ivr.library.store import SnapshotStore
from ivr.library.trees import decode, encode
from ivr.library.yamlfile import parse
from ivr.settings import PROJECT_ROOT, Settings
from ivr.source import LoadError, Node
from tests.conftest import EMERGENCY, OPERATOR, Clock, Phone, make_app, republish

CONSULTANT_FIRST = '"1": consultant\n      "2": crisis_centre'
EMERGENCY_FIRST = '"1": emergency\n      "2": crisis_centre'


def edit(flows_dir: Path, old: str, new: str, file: str = "hotline150.yaml") -> None:
    path = flows_dir / file
    text = path.read_text()
    assert old in text, f"test setup: {old!r} is not in {file}"
    path.write_text(text.replace(old, new, 1))


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"IVR_FLOWS_DIR": str(settings.flows_dir), "IVR_AUDIO_DIR": str(settings.audio_dir),
           "REDIS_URL": settings.redis_url or "", "IVR_REDIS_PREFIX": settings.redis_prefix}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_a_call_finishes_on_the_version_it_started_on(phone: Phone, flows_dir: Path,
                                                      settings: Settings) -> None:
    sim = phone.start()
    sim.post("/voice")
    sim.post("/voice/gather", {"Digits": "2"})  # Russian: the main menu
    edit(flows_dir, CONSULTANT_FIRST, EMERGENCY_FIRST)
    assert republish(phone.app, settings).publication is not None
    document = sim.post("/voice/gather", {"Digits": "1"})  # the old menu: 1 is a consultant
    assert document.find("Dial/Number").text == OPERATOR  # type: ignore[union-attr]
    assert phone.call(["2", "1"]).numbers[0] == EMERGENCY  # a new call gets the new menu


def test_a_refused_publication_changes_nothing_and_says_why(phone: Phone, flows_dir: Path,
                                                            settings: Settings) -> None:
    before = phone.app.extensions["ivr.voice"].snapshot().version
    sim = phone.start()
    sim.post("/voice")
    edit(flows_dir, '"2": russian', '"2": rusian')
    code, output = cli(settings, "publish", "-m", "typo")
    assert code == 1
    assert "greeting: 'key 2' leads to a step that does not exist: 'rusian'" in output
    assert "nothing was published; the version in force is unchanged" in output
    phone.app.extensions["ivr.voice"].library.refresh()
    assert phone.app.extensions["ivr.voice"].snapshot().version == before
    document = sim.post("/voice/gather", {"Digits": "2"})
    assert "/audio/ru/main_menu." in (document[0][0].text or "")
    code, status = cli(settings, "status")
    assert "working folders: 1 problem(s); they cannot be published:" in status
    assert "last refused:" in status
    assert "flows/hotline150.yaml:35:7: greeting: 'key 2' leads to" in status


def test_publish_history_and_rollback(phone: Phone, flows_dir: Path, settings: Settings) -> None:
    first = phone.app.extensions["ivr.voice"].snapshot().version
    edit(flows_dir, CONSULTANT_FIRST, EMERGENCY_FIRST)
    code, output = cli(settings, "publish", "-m", "9 first for a drill", "--by", "aigerim")
    assert code == 0, output
    second = output.split("published version ")[1].split(":")[0]
    assert "flows/hotline150.yaml: steps changed main_menu" in output
    code, output = cli(settings, "publish")
    assert f"version {second} is already in force" in output
    code, history = cli(settings, "history")
    assert code == 0, history
    lines = history.splitlines()
    assert lines[0].startswith(f"* {second}  ")
    assert 'aigerim "9 first for a drill"' in lines[0]
    assert "steps changed main_menu" in lines[1]
    assert lines[2].startswith(f"  {first}  ")
    assert "router start-up" in lines[2]
    code, output = cli(settings, "rollback", first, "-m", "drill over")
    assert code == 0, output
    assert f"version {first} is in force again" in output
    phone.app.extensions["ivr.voice"].library.refresh()
    assert phone.call(["2", "1"]).numbers[0] == OPERATOR
    code, history = cli(settings, "history", "-n", "1")
    assert f"* {first}" in history
    assert "[rollback]" in history
    assert '"drill over"' in history
    code, output = cli(settings, "rollback", "0123456789ab")
    assert code == 1
    assert "version 0123456789ab is not kept in the store (`ivr history`" in output


def test_every_process_takes_a_new_version_in_the_background(settings: Settings,
                                                              flows_dir: Path) -> None:
    apps = [make_app(settings), make_app(settings)]
    libraries = [app.extensions["ivr.voice"].library for app in apps]
    changed = [threading.Event() for _ in apps]
    for library, event in zip(libraries, changed, strict=True):
        original = library._install

        def install(*args, original=original, event=event):  # type: ignore[no-untyped-def]
            original(*args)
            event.set()

        library._install = install  # type: ignore[method-assign]
        library.start(every=0.2)
    try:
        edit(flows_dir, CONSULTANT_FIRST, EMERGENCY_FIRST)
        code, output = cli(settings, "publish")
        assert code == 0, output
        assert all(event.wait(30) for event in changed)
        versions = {app.extensions["ivr.voice"].snapshot().version for app in apps}
        assert versions == {output.split("published version ")[1].split(":")[0]}
    finally:
        for library in libraries:
            library.stop()


def test_a_recording_deleted_or_replaced_on_disk_still_plays_in_the_version_in_force(
    settings: Settings, tmp_path: Path
) -> None:
    audio = tmp_path / "audio"
    shutil.copytree(PROJECT_ROOT / "audio", audio)
    settings = replace(settings, audio_dir=audio)
    phone = Phone(make_app(settings), settings)
    recording = phone.app.extensions["ivr.voice"].snapshot().catalogue.recording("greeting", "kk")
    assert recording is not None
    original = (audio / "kk" / "greeting.wav").read_bytes()
    (audio / "kk" / "greeting.wav").unlink()
    (audio / "ru" / "greeting.wav").write_bytes(b"not a recording")
    call = phone.call(["2", "1"])
    assert call.prompts[0] == ("greeting", "kk")
    with phone.app.test_client().get(f"/audio/{recording.published_name}") as served:
        assert served.status_code == 200
        assert served.get_data() == original


def test_the_store_keeps_files_once_and_prunes_old_versions(settings: Settings) -> None:
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url)
    store = SnapshotStore(client, Keys(settings.redis_prefix))
    base = {"flows/a.yaml": b"a: 1\n", "audio/kk/x.wav": b"RIFF" * 100}
    versions = []
    for n in range(5):
        files = {**base, "flows/a.yaml": f"a: {n}\n".encode()}
        store.publish(files, "test", f"n={n}", "")
        versions.append(version_of(files))
    blobs = client.keys(Keys(settings.redis_prefix).blob("*"))
    assert len(blobs) == 6  # five versions of one file, and the recording once
    assert store.prune(keep=2) == 3
    assert store.manifest(versions[0]) is None
    assert store.files(versions[4])["audio/kk/x.wav"] == b"RIFF" * 100
    assert len(client.keys(Keys(settings.redis_prefix).blob("*"))) == 3
    assert [p.message for p in store.history()] == [f"n={n}" for n in range(5)]


def test_a_version_kept_again_at_the_same_moment_is_never_missing(settings: Settings) -> None:
    """Two routers starting on an empty store publish the same version at once: neither may
    find it missing while the other writes it again (a worker that cannot boot stops gunicorn)."""
    assert settings.redis_url
    store = SnapshotStore(redis.Redis.from_url(settings.redis_url), Keys(settings.redis_prefix))
    # a manifest large enough to reach Redis in several reads, as a real version's does
    files = {"flows/a.yaml": b"a: 1\n",
             **{f"audio/kk/recording_number_{n:05d}.wav": b"RIFF%d" % n for n in range(3000)}}
    version = store.put(files)
    stop = threading.Event()

    def keep_again() -> None:
        while not stop.is_set():
            store.put(files)

    writers = [threading.Thread(target=keep_again) for _ in range(2)]
    for writer in writers:
        writer.start()
    try:
        for _ in range(300):
            assert store.manifest(version) is not None
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert store.files(version) == files


def test_a_damaged_file_in_the_store_is_never_served(settings: Settings) -> None:
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    store = SnapshotStore(client, keys)
    files = {"flows/a.yaml": b"a: 1\n"}
    store.publish(files, "test", "", "")
    version = version_of(files)
    client.set(keys.blob(digest(b"a: 1\n")), b"a: 2\n")
    with pytest.raises(Exception, match="missing or damaged"):
        store.files(version)


def test_publishing_needs_the_shared_store(flows_dir: Path) -> None:
    result = CliRunner().invoke(main, ["publish"], env={"IVR_FLOWS_DIR": str(flows_dir),
                                                        "REDIS_URL": None})
    assert result.exit_code == 1
    assert "REDIS_URL is not set: published versions are kept in the Redis" in result.output
    result = CliRunner().invoke(main, ["publish"], env={"IVR_FLOWS_DIR": str(flows_dir),
                                                        "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.exit_code == 1
    assert "cannot reach Redis at REDIS_URL (ConnectionError)" in result.output
    assert "Traceback" not in result.output


def test_a_router_on_an_empty_store_refuses_to_start_with_a_broken_working_folder(
    settings: Settings, flows_dir: Path
) -> None:
    edit(flows_dir, '"2": russian', '"2": rusian')
    with pytest.raises(LoadError, match="'key 2' leads to a step that does not exist"):
        make_app(settings)


def test_a_router_that_finds_the_store_emptied_restores_its_version(app: Flask,
                                                                     settings: Settings) -> None:
    library = app.extensions["ivr.voice"].library
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url)
    client.delete(*client.keys(f"{settings.redis_prefix}lib:*"))  # Redis lost its data
    library.refresh()
    assert library.store.current() == library.current.version
    restarted = make_app(settings, Clock())  # and a restarted process starts on it
    assert restarted.extensions["ivr.voice"].snapshot().version == library.current.version


def lines_of(value: object) -> object:
    """A parsed value with every mapping's own line and its keys' lines, for comparison."""
    if isinstance(value, Node):
        return (value.line, {k: (value.line_of(k), lines_of(v)) for k, v in value.items()})
    if isinstance(value, list):
        return [lines_of(v) for v in value]
    return value


def test_a_router_reads_each_file_as_the_publisher_parsed_it(app: Flask, settings: Settings) -> None:
    library = app.extensions["ivr.voice"].library
    files = library.current.files
    yaml_files = {digest(data): (name, data) for name, data in files.items()
                  if name.endswith(".yaml")}
    stored = library.store.trees(sorted(yaml_files))
    assert set(stored) == set(yaml_files)
    for sha, text in stored.items():
        name, data = yaml_files[sha]
        tree = decode(text)
        assert tree is not None
        assert lines_of(tree) == lines_of(parse(data, name))
    assert encode(parse(b"a: !!set {x: null}\n", "x.yaml")) is None  # kept only when exact
    assert library.store.schema_passed(fingerprint(), sorted(yaml_files)) == set(yaml_files)
    assert library.store.schema_passed("0" * 12, sorted(yaml_files)) == set()  # other schemas


def test_a_version_the_router_cannot_check_never_replaces_the_one_in_force(
    app: Flask, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    library = app.extensions["ivr.voice"].library
    good = library.current.version
    broken = {**library.current.files, "flows/roster.yaml": b"operators: {}\n"}
    library.store.publish(broken, "someone", "written past the checks", "")  # not via publish()
    for _ in range(3):
        assert library.refresh() is False
    assert library.current.version == good
    assert caplog.text.count("could not load version") == 1  # tried again only after a minute
    restarted = make_app(settings)  # a process that starts now serves the last good version
    assert restarted.extensions["ivr.voice"].snapshot().version == good


def test_a_webhook_never_loads_a_version(phone: Phone, flows_dir: Path,
                                         settings: Settings) -> None:
    library = phone.app.extensions["ivr.voice"].library
    edit(flows_dir, CONSULTANT_FIRST, EMERGENCY_FIRST)
    code, output = cli(settings, "publish")  # in force in the store, not yet in this process
    assert code == 0, output
    assert phone.call(["2", "1"]).numbers[0] == OPERATOR  # served from memory, as it was
    library.refresh()  # what the background thread does within a second
    assert phone.call(["2", "1"]).numbers[0] == EMERGENCY
